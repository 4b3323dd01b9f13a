import { bootstrapService } from '@seqrec/nest-platform';
import { scorerService } from './scorer.service';

void bootstrapService(scorerService);
