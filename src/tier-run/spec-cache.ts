import { existsSync, readFileSync } from 'node:fs';
import { filesIntact, type RunSpec } from '../claude/run.js';
import { contentStamp } from '../mcp-config.js';

// A spec as it was made, with what it was made from that can change on disk: the files it names (RunSpec.files: a spec
// one of whose files is gone or holds another text than was written is made again, which writes it again), a file it
// read (made again when that file's content differs), and paths whose existence it depends on (made again when one of
// them came or went).
export interface MadeSpec {
  spec: RunSpec;
  /** A file the spec was made from (the tier's MCP config), and the stamp of the text it was made from. */
  read?: { path: string; stamp: string };
  /** Paths that may or may not exist (the user's config paths), and those that existed when it was made. */
  seen?: { paths: readonly string[]; existing: readonly string[] };
}

// A file's stamp now (contentStamp of what it holds), or 'missing'.
export function fileStamp(path: string): string {
  try {
    return contentStamp(readFileSync(path));
  } catch {
    return 'missing';
  }
}

const isFresh = ({ spec, read, seen }: MadeSpec): boolean =>
  filesIntact(spec) &&
  (!seen || seen.paths.every((p) => existsSync(p) === seen.existing.includes(p))) &&
  (!read || fileStamp(read.path) === read.stamp);

// The specs of runs with a tier's shared files, made once per key and read after that: callers that ask at once share
// one promise; one that fails is dropped (the next call makes it again), and so is one gone stale on disk. At most
// `kept` are kept; the one least recently asked for goes first (keys hold client-chosen flags such as a budget).
export class SpecCache {
  private readonly specs = new Map<string, Promise<MadeSpec>>();

  constructor(private readonly kept = 64) {}

  get size(): number {
    return this.specs.size;
  }

  /** The spec of `key`, made by `make` when there is none yet (or the kept one failed or went stale). */
  get(key: string, make: () => Promise<MadeSpec>): Promise<RunSpec> {
    const known = this.specs.get(key);
    if (!known) return this.put(key, make).then((m) => m.spec);
    this.specs.delete(key);
    this.specs.set(key, known);
    return known.then((m) => (isFresh(m) ? m : this.again(key, known, make))).then((m) => m.spec);
  }

  /** Forgets every spec (the binary they name is gone). */
  clear(): void {
    this.specs.clear();
  }

  // A stale spec made again, once: the first caller to find it stale replaces it, the others share the replacement.
  private again(key: string, stale: Promise<MadeSpec>, make: () => Promise<MadeSpec>): Promise<MadeSpec> {
    const now = this.specs.get(key);
    return now && now !== stale ? now : this.put(key, make);
  }

  private put(key: string, make: () => Promise<MadeSpec>): Promise<MadeSpec> {
    const made = make();
    made.catch(() => this.specs.get(key) === made && this.specs.delete(key));
    this.specs.delete(key);
    if (this.specs.size >= this.kept) this.specs.delete(this.specs.keys().next().value!);
    this.specs.set(key, made);
    return made;
  }
}
