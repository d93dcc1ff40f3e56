// The services read a `.env` file in the working directory (through @nestjs/config); the scripts
// read it too, or a JWT_SECRET set there would mint tokens the services reject. As for the
// services, a variable the environment already sets wins over the file.
import { existsSync } from 'node:fs';

if (existsSync('.env')) process.loadEnvFile('.env');
