/** Injection tokens of the platform library. */
export const ENV = 'SEQREC_ENV';
export const SERVICE_NAME = 'SEQREC_SERVICE_NAME';
export const METRICS_REGISTRY = 'SEQREC_METRICS_REGISTRY';
export const BUS = 'SEQREC_BUS';
export const REDIS = 'SEQREC_REDIS';
export const REDIS_KEYS = 'SEQREC_REDIS_KEYS';
export const SEQUENCE_STORE = 'SEQREC_SEQUENCE_STORE';
export const ITEM_DICTIONARY = 'SEQREC_ITEM_DICTIONARY';
export const EVENT_CLAIMS = 'SEQREC_EVENT_CLAIMS';
/** The live trending counts (`TrendingStore` of `@seqrec/window`): written by the sequence-builder, read by the scorer. */
export const TRENDING_STORE = 'SEQREC_TRENDING_STORE';
/** The item catalogue's state store (CatalogueStore: Redis, or in memory in embedded mode). */
export const CATALOGUE_STORE = 'SEQREC_CATALOGUE_STORE';
/** The {@link Pseudonymizer} of user ids (PRIVACY_PSEUDONYMIZE; pass-through when off). */
export const PSEUDONYMIZER = 'SEQREC_PSEUDONYMIZER';
