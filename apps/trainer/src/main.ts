import { bootstrapService } from '@seqrec/nest-platform';
import { trainerService } from './service';

void bootstrapService(trainerService);
