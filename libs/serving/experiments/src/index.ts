export * from './sequential';
export * from './assignment';
export * from './report';
