import { describe, expect, it } from 'vitest';
import { routePrompt } from '../src/routing.js';

const table: Array<[string, 'speed' | 'comprehensive', RegExp?]> = [
  ['What is the capital of France?', 'speed'],
  ['Explain the difference between TCP and UDP in two sentences.', 'speed'],
  ['What does HTTP status 418 mean?', 'speed'],
  ['Translate "good morning" into German.', 'speed'],
  ['Is 97 a prime number?', 'speed'],
  ['Give me a regex that matches an ISO date.', 'speed'],
  ['Summarize the plot of Hamlet in one line.', 'speed'],
  ['Write a haiku about autumn.', 'speed'],
  ['What is the time complexity of quicksort?', 'speed'],
  ['Name three sorting algorithms.', 'speed'],
  ['Run the test suite and tell me what fails.', 'comprehensive', /running tests/],
  ['npm test is failing, can you check?', 'comprehensive', /running tests or commands/],
  ['Refactor the auth module to use async/await.', 'comprehensive', /change files/],
  ['Fix the bug in the login function.', 'comprehensive', /change files/],
  ['Add a test for the parser.', 'comprehensive', /change files/],
  ['Review the code in this repository for security issues.', 'comprehensive', /read files/],
  ['Look at the files under src and summarize the architecture.', 'comprehensive', /read files/],
  ['What does src/server.ts do?', 'comprehensive', /file path/],
  ['Why does package.json pin zod?', 'comprehensive', /file path/],
  ['Search the web for the latest Node.js release.', 'comprehensive', /web/],
  ['Summarize https://example.com/post', 'comprehensive', /web/],
  ['Investigate why the build is slow and propose a fix plan.', 'comprehensive'],
  ['Debug the flaky integration test.', 'comprehensive'],
  ['x'.repeat(2500), 'comprehensive', /long prompt/],
];

describe('routePrompt', () => {
  it.each(table)('%s -> %s', (prompt, tier, why) => {
    const route = routePrompt(prompt);
    expect(route.tier).toBe(tier);
    if (why) expect(route.why).toMatch(why);
    expect(route.why.length).toBeGreaterThan(3);
  });
});
