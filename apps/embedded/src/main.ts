import { bootstrapService } from '@seqrec/nest-platform';
import { embeddedService } from './service';

void bootstrapService(embeddedService);
