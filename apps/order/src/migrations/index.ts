/** Every migration of the order database, oldest first. */
export const orderMigrations: Function[] = [];
