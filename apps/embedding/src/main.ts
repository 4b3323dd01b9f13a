import { bootstrapService } from '@seqrec/nest-platform';
import { embeddingService } from './embedding.service';

void bootstrapService(embeddingService);
