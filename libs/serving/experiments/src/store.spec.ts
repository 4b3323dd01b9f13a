import { describe } from 'node:test';
import { MemoryExperimentStore } from './store';
import { experimentStoreContract } from './store-contract';

describe('MemoryExperimentStore', () => {
  experimentStoreContract(async () => new MemoryExperimentStore());
});
