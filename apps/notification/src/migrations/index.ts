/** Every migration of the notification database, oldest first. */
export const notificationMigrations: Function[] = [];
