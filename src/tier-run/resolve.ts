import type { UserContent } from '../claude/control.js';
import type { Config, TierConfig } from '../config/schema.js';
import type { CostModel } from '../cost/cost-model.js';
import { pickModel } from '../cost/pick-model.js';
import { modelLadder } from '../cost/prices.js';
import { pathBounds, resolveCwd } from '../cwd.js';
import { ToolError } from '../errors.js';
import { imageBlocks, type ImageInput } from '../images.js';
import { routeAuto } from '../routing.js';

// Looks a tier up by name; an unknown name is an error that lists the known ones.
export function getTier(config: Config, name: string): TierConfig {
  // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
  const tier = Object.hasOwn(config.tiers, name) ? config.tiers[name] : undefined;
  if (!tier)
    throw new ToolError(
      `tier: unknown tier "${name}"; known tiers: ${Object.keys(config.tiers).join(', ')}, or "auto"`,
    );
  return tier;
}

// What a request asks for, as far as routing goes.
export interface RouteRequest {
  tier?: string;
  prompt: string;
  model?: string;
  maxBudgetUsd?: number;
}

// The tier a request runs on (the asked tier, `auto` routed by the prompt, else `fallback`), plus for
// tier "auto" with max_budget_usd and no model: the strongest model whose estimated cost fits
// (`routed: comprehensive on sonnet (opus estimate $0.42 > budget $0.25, ...): mentions running tests or commands`).
export function resolveRoute(
  req: RouteRequest,
  fallback: string,
  config: Config,
  costs: CostModel,
): { tierName: string; model?: string; routed?: string } {
  // A named tier needs no routing.
  if (req.tier !== 'auto') return { tierName: req.tier ?? fallback };
  const resolved = routeAuto(req.prompt);
  if (req.maxBudgetUsd === undefined || req.model !== undefined) return resolved;
  // A tier this config lacks is refused by resolveRun, with the known names.
  const tier = Object.hasOwn(config.tiers, resolved.tierName) ? config.tiers[resolved.tierName] : undefined;
  if (!tier) return resolved;
  const ladder = modelLadder(config.prices, tier.model);
  const pick = pickModel(costs, resolved.tierName, ladder, req.prompt.length, req.maxBudgetUsd);
  const reason = resolved.routed.replace(/^routed: \S+ \((.*)\)$/, '$1');
  return {
    tierName: resolved.tierName,
    model: pick.model,
    routed: `routed: ${resolved.tierName} on ${pick.model} (${pick.why}): ${reason}`,
  };
}

// A request resolved once, at the top of either tier: below it nothing looks the tier or the cwd up again.
export interface ResolvedRun {
  readonly tierName: string;
  readonly tier: TierConfig;
  /** The real working directory (symlinks followed), inside the allowed roots. */
  readonly cwd: string;
  readonly model: string;
  /** What claude is sent: the prompt, or its images (relative paths found from cwd), then the prompt. */
  readonly content: UserContent;
}

// What a caller asks of a run, before it is resolved.
export interface AskedRun {
  tierName: string;
  cwd?: string;
  model?: string;
  prompt: string;
  images?: ImageInput[];
}

// Resolves a request: its tier, its real cwd, its model, and its content (images checked: inside the roots, known
// types, capped; relative paths found from the cwd); every problem is a ToolError naming the field.
export async function resolveRun(config: Config, asked: AskedRun): Promise<ResolvedRun> {
  const tier = getTier(config, asked.tierName);
  // The roots and the state dir are looked up once; the cwd and each image path are checked against them.
  const bounds = pathBounds(config.allowedRoots, config.stateDir);
  const cwd = resolveCwd(asked.cwd, bounds);
  const images = asked.images ? await imageBlocks(asked.images, bounds, cwd) : undefined;
  const content: UserContent = images ? [...images, { type: 'text', text: asked.prompt }] : asked.prompt;
  return { tierName: asked.tierName, tier, cwd, model: asked.model ?? tier.model, content };
}

// The same request on another tier (a fallback tier): that tier's own model, the same cwd and content.
export function onTier(config: Config, run: ResolvedRun, tierName: string): ResolvedRun {
  const tier = getTier(config, tierName);
  return { ...run, tierName, tier, model: tier.model };
}
