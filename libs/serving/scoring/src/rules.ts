/**
 * Business rules of a recommendation request (docs/api.md): only available items, categories to
 * include or exclude (a category path prefix matches), item ids to exclude, a price range, the
 * items the user already interacted with (per event type, from the live window), and at most N
 * items per category. Per deployment (SCORER_RULES_*) and per request (query parameters of GET
 * recommendations, `rules` in the bodies of rank and batch); a request's field replaces the
 * deployment's. Compiled per request by the {@link CatalogueView} into the `ItemRules` the top-k
 * search applies inside its scan.
 */
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES, IdSchema, MAX_CATEGORY_LENGTH, type EventType } from '@seqrec/contracts';

const Category = Type.String({ minLength: 1, maxLength: MAX_CATEGORY_LENGTH });
const EventTypeSchema = Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)));

/** The rules in a request body (`rules`): every field optional, absent = the deployment's default. */
export const RulesSchema = Type.Object(
  {
    onlyAvailable: Type.Optional(Type.Boolean({ description: 'leave out items the catalogue marks unavailable (items not in the catalogue pass)' })),
    categories: Type.Optional(Type.Array(Category, { maxItems: 50, description: 'only items under one of these category paths (prefix by level: `Home` matches `Home/Kitchen`)' })),
    excludeCategories: Type.Optional(Type.Array(Category, { maxItems: 50, description: 'no items under these category paths' })),
    excludeItems: Type.Optional(Type.Array(IdSchema, { maxItems: 1000, description: 'item ids never to return' })),
    minPrice: Type.Optional(Type.Number({ minimum: 0, description: 'only items with a catalogue price ≥ this' })),
    maxPrice: Type.Optional(Type.Number({ minimum: 0, description: 'only items with a catalogue price ≤ this' })),
    excludeInteracted: Type.Optional(Type.Array(EventTypeSchema, { maxItems: EVENT_TYPES.length, description: 'leave out items the user had events of these types with (live window); [] for none' })),
    maxPerCategory: Type.Optional(Type.Integer({ minimum: 0, description: 'at most this many items of one category (full path) in the answer (0: no cap)' })),
  },
  { $id: 'Rules', additionalProperties: false },
);
export type RulesInput = Static<typeof RulesSchema>;

const list = (description: string) => Type.Optional(Type.String({ maxLength: 16_384, description: `${description}, comma-separated` }));
const price = (description: string) => Type.Optional(Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?$', description }));

/** The same rules as query parameters of `GET /v1/users/{userId}/recommendations`. */
export const rulesQuery = {
  available: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: only available items (default SCORER_RULES_ONLY_AVAILABLE)' })),
  category: list('only items under these category paths'),
  excludeCategory: list('no items under these category paths'),
  excludeItems: list('item ids never to return'),
  minPrice: price('only items with a price ≥ this'),
  maxPrice: price('only items with a price ≤ this'),
  excludeInteracted: list('event types whose items the user had are left out (default SCORER_RULES_EXCLUDE_INTERACTED; `none` for none)'),
  maxPerCategory: Type.Optional(Type.Integer({ minimum: 0, description: 'at most this many items per category (default SCORER_RULES_MAX_PER_CATEGORY; 0: no cap)' })),
};

/** The rules of one request, defaults applied. */
export interface RuleSpec {
  onlyAvailable: boolean;
  categories: string[];
  excludeCategories: string[];
  excludeItems: string[];
  minPrice: number | null;
  maxPrice: number | null;
  excludeInteracted: EventType[];
  maxPerCategory: number;
}

/** The deployment's defaults (SCORER_RULES_*). */
export type RuleDefaults = Pick<RuleSpec, 'onlyAvailable' | 'excludeCategories' | 'excludeInteracted' | 'maxPerCategory'>;

/** A request's rules over the deployment's defaults. */
export function resolveRules(defaults: RuleDefaults, input: RulesInput | undefined): RuleSpec {
  const r = input ?? {};
  return {
    onlyAvailable: r.onlyAvailable ?? defaults.onlyAvailable,
    categories: r.categories ?? [],
    excludeCategories: r.excludeCategories ?? defaults.excludeCategories,
    excludeItems: r.excludeItems ?? [],
    minPrice: r.minPrice ?? null,
    maxPrice: r.maxPrice ?? null,
    excludeInteracted: r.excludeInteracted ?? defaults.excludeInteracted,
    maxPerCategory: r.maxPerCategory ?? defaults.maxPerCategory,
  };
}

/** The query parameters as body rules (lists split on commas; `excludeInteracted=none` is []). */
export function rulesFromQuery(q: Partial<Record<keyof typeof rulesQuery, string | number>>): RulesInput {
  const split = (v: string | number | undefined) => (v === undefined ? undefined : String(v).split(',').map((s) => s.trim()).filter(Boolean));
  const out: RulesInput = {};
  if (q.available !== undefined) out.onlyAvailable = q.available === 'true';
  const categories = split(q.category);
  if (categories) out.categories = categories;
  const excludeCategories = split(q.excludeCategory);
  if (excludeCategories) out.excludeCategories = excludeCategories;
  const excludeItems = split(q.excludeItems);
  if (excludeItems) out.excludeItems = excludeItems;
  if (q.minPrice !== undefined) out.minPrice = Number(q.minPrice);
  if (q.maxPrice !== undefined) out.maxPrice = Number(q.maxPrice);
  if (q.excludeInteracted !== undefined) out.excludeInteracted = String(q.excludeInteracted) === 'none' ? [] : parseEventTypes(String(q.excludeInteracted));
  if (q.maxPerCategory !== undefined) out.maxPerCategory = Number(q.maxPerCategory);
  return out;
}

/** Event types from a comma-separated setting (`purchase,add_to_cart`; empty: none); throws on an unknown one. */
export function parseEventTypes(value: string): EventType[] {
  const types = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of types) if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new RangeError(`unknown event type "${t}" (one of ${EVENT_TYPES.join(', ')})`);
  return types as EventType[];
}
