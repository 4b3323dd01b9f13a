export * from './sequential';
export * from './assignment';
export * from './report';
export * from './config';
export * from './store';
export * from './redis-store';
