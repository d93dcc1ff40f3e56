import { jest } from '@jest/globals';

// End-to-end tests start whole services and wait for flows to finish, by polling.
jest.setTimeout(180_000);
