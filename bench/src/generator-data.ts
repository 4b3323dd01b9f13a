import type { SequenceDataset } from '@seqrec/datasets';
import { Catalogue, generateSequences, resolveOptions, type GeneratorOptions } from '@seqrec/generator';

/**
 * The generator's shop as a dataset: each user's viewed items in time order (users with 3 or more),
 * items numbered in order of first appearance, with the catalogue that made them (categories,
 * popularity) and the catalogue index of every dataset item.
 */
export function generatorDataset(options: GeneratorOptions & { events: number }): { dataset: SequenceDataset; catalogue: Catalogue; catalogueIndex: Int32Array } {
  const seqs = generateSequences(options);
  const catalogue = new Catalogue(resolveOptions(options));
  const itemIds = [''];
  const index = new Map<string, number>();
  const users: string[] = [];
  const sequences: Int32Array[] = [];
  for (const [user, items] of seqs) {
    if (items.length < 3) continue;
    users.push(user);
    sequences.push(
      Int32Array.from(items, (id) => {
        let i = index.get(id);
        if (i === undefined) index.set(id, (i = itemIds.push(id) - 1));
        return i;
      }),
    );
  }
  const byId = new Map(catalogue.itemIds.map((id, i) => [id, i]));
  const catalogueIndex = Int32Array.from(itemIds, (id) => (id === '' ? -1 : byId.get(id)!));
  return { dataset: { name: 'generator', numItems: itemIds.length - 1, itemIds, users, sequences }, catalogue, catalogueIndex };
}
