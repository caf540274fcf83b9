/**
 * Where a task's log stands in the run that wrote it last: the run's id and the number of its
 * last stored line (both given by the agent), so that lines sent again after a lost answer are
 * stored once. On the task's row, read and written with the lines in one transaction: finding
 * the last line of a run among the task's lines instead made PostgreSQL sort every line of the
 * task at every append.
 */
export const sql = `
ALTER TABLE tasks ADD COLUMN log_run TEXT;
ALTER TABLE tasks ADD COLUMN log_n INTEGER;
`;
