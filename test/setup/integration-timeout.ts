import { jest } from '@jest/globals';

// Integration tests talk to real servers: slower than unit tests, still bounded.
jest.setTimeout(30_000);
