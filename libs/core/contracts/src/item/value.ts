import { Type, type Static } from '@sinclair/typebox';
import { IdSchema } from '../event/value';

/** Separator of a category path's levels: `Beauty/Skin Care/Face`. */
export const CATEGORY_SEPARATOR = '/';
/** Longest title, category path and brand, in UTF-16 code units. */
export const MAX_TITLE_LENGTH = 512;
export const MAX_CATEGORY_LENGTH = 256;
export const MAX_BRAND_LENGTH = 128;
/** Most free attributes per item, and the longest attribute value. */
export const MAX_ITEM_ATTRIBUTES = 32;
export const MAX_ATTRIBUTE_LENGTH = 256;
/** Most dimensions of an image vector (an image embedding made by the shop's own image model). */
export const MAX_IMAGE_DIM = 1024;

/**
 * One catalogue item as producers send it (`POST /v1/items` or the items topic, keyed by
 * `itemId`). Every field but `itemId` is optional; a message replaces the item's whole record (it is
 * the item's state, not a patch), so a compacted topic keeps exactly the current catalogue. An item
 * with no `available` is available. The image itself (bytes or a file) is not taken yet: send the
 * vector of your image model.
 */
export const ItemSchema = Type.Object(
  {
    itemId: IdSchema,
    title: Type.Optional(Type.String({ maxLength: MAX_TITLE_LENGTH })),
    /** Category path, levels separated by `/`, most general first (`Beauty/Skin Care/Face`). */
    category: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_CATEGORY_LENGTH, pattern: '^[^/]+(/[^/]+)*$' })),
    brand: Type.Optional(Type.String({ maxLength: MAX_BRAND_LENGTH })),
    /** Price in the shop's currency, ≥ 0. */
    price: Type.Optional(Type.Number({ minimum: 0, maximum: 1e12 })),
    available: Type.Optional(Type.Boolean()),
    /** Free attributes: string, number or boolean values (colour, size, material, ...). */
    attributes: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.Union([Type.String({ maxLength: MAX_ATTRIBUTE_LENGTH }), Type.Number(), Type.Boolean()]), {
        maxProperties: MAX_ITEM_ATTRIBUTES,
      }),
    ),
    /** The item's image embedding, from the shop's image model (finite numbers). */
    imageVector: Type.Optional(Type.Array(Type.Number(), { minItems: 1, maxItems: MAX_IMAGE_DIM })),
  },
  { additionalProperties: false, $id: 'ItemV1' },
);
export type ItemV1 = Static<typeof ItemSchema>;

/** An item as stored and served: the producer's record plus the time it was changed (epoch ms, the message's timestamp). */
export interface StoredItem extends ItemV1 {
  updatedAt: number;
}

/** True when `category` is `prefix` or below it (`Beauty/Skin` matches `Beauty/Skin/Face`, not `Beauty/Skincare`). */
export function categoryMatches(category: string, prefix: string): boolean {
  return category === prefix || (category.length > prefix.length && category.startsWith(prefix) && category[prefix.length] === CATEGORY_SEPARATOR);
}
