// Thrown by a job's run to hand the job back to the queue (another worker, or this one later, takes it again).
export class HandBack extends Error {
  override name = 'HandBack';
}
