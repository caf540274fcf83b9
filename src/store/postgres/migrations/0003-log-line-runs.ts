/** As SQLite's 0003: the run that last wrote the task's log, and the number of its last stored line. */
export const sql = `
ALTER TABLE tasks ADD COLUMN log_run TEXT, ADD COLUMN log_n BIGINT;
`;
