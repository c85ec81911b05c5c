// One rule of the router: a pattern and the words that explain a match.
interface Rule {
  test: (prompt: string) => boolean;
  why: string;
}

// A rule's test: a case-insensitive regex of the given alternatives (regex sources).
const re = (...alternatives: string[]) => {
  const pattern = new RegExp(alternatives.join('|'), 'i');
  return (p: string) => pattern.test(p);
};

// Any of the words (`a|b|c`, a regex source) as a whole word.
const words = (alternatives: string) => String.raw`\b(${alternatives})\b`;

// One of the verbs, then one of the objects within `gap` characters of the same sentence.
const near = (verbs: string, gap: number, objects: string) => `${words(verbs)}[^.?!]{0,${gap}}${words(objects)}`;

// The word lists of the rules below, as regex alternatives.
const RUN_VERBS = 'run|rerun|execute';
const RUN_OBJECTS = 'tests?|suite|specs?|script|commands?|build|lint(er)?|benchmarks?';
const BUILD_TOOLS = 'npm|pnpm|yarn|npx|pytest|cargo|make|go test|mvn|gradle';
const CHANGE_VERBS =
  'edit|modify|refactor|rename|rewrite|implement|patch|fix|add|remove|delete|create|write|update|change|migrate|port';
const CODE_OBJECTS =
  'files?|code|function|class|module|tests?|bug|feature|repo(sitory)?|project|component|endpoint|' +
  'config(uration)?|script|docs?|readme';
const READ_VERBS = 'read|open|look at|inspect|analy[sz]e|review|audit|scan|grep|search|explore|summari[sz]e';
const PROJECT_OBJECTS = 'files?|repo(sitory)?|codebase|code base|project|directory|folder|source|logs?|diff';
const WEB_PHRASES =
  'search the web|web search|browse|look (it )?up online|on the internet|latest news|fetch (the )?(page|url)';
const SOURCE_EXTENSIONS = 'ts|tsx|js|mjs|py|go|rs|java|rb|json|ya?ml|toml|md|sh|c|cpp|h';
const MULTI_STEP_PHRASES =
  'debug|investigate|figure out why|root cause|step[- ]by[- ]step plan|end[- ]to[- ]end|deploy|set up|install';

// Rules that send a prompt to the comprehensive tier, in order; the first match explains the choice.
const COMPREHENSIVE_RULES: Rule[] = [
  { test: re(near(RUN_VERBS, 40, RUN_OBJECTS), words(BUILD_TOOLS)), why: 'mentions running tests or commands' },
  { test: re(near(CHANGE_VERBS, 60, CODE_OBJECTS)), why: 'asks to change files or code' },
  { test: re(near(READ_VERBS, 40, PROJECT_OBJECTS)), why: 'asks to read files in the project' },
  { test: re(words(WEB_PHRASES), String.raw`https?:\/\/`), why: 'needs the web' },
  {
    test: re(
      String.raw`(^|\s)(\.{0,2}\/)?[\w.-]+\/[\w./-]+\.\w{1,5}\b`,
      String.raw`\b[\w-]+\.(${SOURCE_EXTENSIONS})\b`,
    ),
    why: 'names a file path',
  },
  { test: re(words(MULTI_STEP_PHRASES)), why: 'asks for multi-step work' },
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
