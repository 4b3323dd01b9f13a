import { bootstrapService, runClustered } from '@seqrec/nest-platform';

// SCORER_WORKERS > 1: a supervising primary and that many worker processes sharing the port; the
// primary never loads the scorer (nor TensorFlow) itself.
void runClustered({ service: 'scorer', workersVariable: 'SCORER_WORKERS' }, async () => {
  const { scorerService } = await import('./scorer.service.js');
  await bootstrapService(scorerService);
});
