/** The experiment store ({@link ExperimentStore}): Redis when the scorer has Redis, else in memory. */
export const EXPERIMENT_STORE = 'SEQREC_EXPERIMENT_STORE';
export const EXPERIMENT_METRICS = 'SEQREC_EXPERIMENT_METRICS';
