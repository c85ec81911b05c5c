// One rule of the router: a pattern and the words that explain a match.
interface Rule {
  test: (prompt: string) => boolean;
  why: string;
}

const re = (pattern: RegExp) => (p: string) => pattern.test(p);

// Rules that send a prompt to the comprehensive tier, in order; the first match explains the choice.
const COMPREHENSIVE_RULES: Rule[] = [
  {
    test: re(
      /\b(run|rerun|execute)\b[^.?!]{0,40}\b(tests?|suite|specs?|script|commands?|build|lint(er)?|benchmarks?)\b|\b(npm|pnpm|yarn|npx|pytest|cargo|make|go test|mvn|gradle)\b/i,
    ),
    why: 'mentions running tests or commands',
  },
  {
    test: re(
      /\b(edit|modify|refactor|rename|rewrite|implement|patch|fix|add|remove|delete|create|write|update|change|migrate|port)\b[^.?!]{0,60}\b(files?|code|function|class|module|tests?|bug|feature|repo(sitory)?|project|component|endpoint|config(uration)?|script|docs?|readme)\b/i,
    ),
    why: 'asks to change files or code',
  },
  {
    test: re(
      /\b(read|open|look at|inspect|analy[sz]e|review|audit|scan|grep|search|explore|summari[sz]e)\b[^.?!]{0,40}\b(files?|repo(sitory)?|codebase|code base|project|directory|folder|source|logs?|diff)\b/i,
    ),
    why: 'asks to read files in the project',
  },
  {
    test: re(
      /\b(search the web|web search|browse|look (it )?up online|on the internet|latest news|fetch (the )?(page|url))\b|https?:\/\//i,
    ),
    why: 'needs the web',
  },
  {
    test: re(
      /(^|\s)(\.{0,2}\/)?[\w.-]+\/[\w./-]+\.\w{1,5}\b|\b[\w-]+\.(ts|tsx|js|mjs|py|go|rs|java|rb|json|ya?ml|toml|md|sh|c|cpp|h)\b/i,
    ),
    why: 'names a file path',
  },
  {
    test: re(
      /\b(debug|investigate|figure out why|root cause|step[- ]by[- ]step plan|end[- ]to[- ]end|deploy|set up|install)\b/i,
    ),
    why: 'asks for multi-step work',
  },
];

const LONG_PROMPT = 2000;

// The tier a prompt is routed to, and why, in words fit for the result (`routed: comprehensive (mentions running
// tests)`).
export interface Route {
  tier: 'speed' | 'comprehensive';
  why: string;
}

// A small explainable classifier: anything that needs tools, files, the web or many steps goes comprehensive; a plain
// question goes speed.
export function routePrompt(prompt: string): Route {
  for (const rule of COMPREHENSIVE_RULES) if (rule.test(prompt)) return { tier: 'comprehensive', why: rule.why };
  if (prompt.length > LONG_PROMPT) return { tier: 'comprehensive', why: `a long prompt (${prompt.length} characters)` };
  return { tier: 'speed', why: 'a simple question' };
}

// Tier "auto" resolved by routePrompt, with the reason kept for the result.
export function routeAuto(prompt: string): { tierName: string; routed: string } {
  const route = routePrompt(prompt);
  return { tierName: route.tier, routed: `routed: ${route.tier} (${route.why})` };
}
