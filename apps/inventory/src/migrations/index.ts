/** Every migration of the inventory database, oldest first. */
export const inventoryMigrations: Function[] = [];
