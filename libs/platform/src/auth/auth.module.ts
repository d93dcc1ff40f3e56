import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { DEV_JWT_SECRET, type ServiceEnvironment } from '../config/environment.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';

/** Requires a bearer token on every HTTP route of the application that is not `@Public()`. */
@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<ServiceEnvironment, true>) => {
        // Fails the start, not each request, should the secret be missing.
        const secret = config.getOrThrow('JWT_SECRET', { infer: true });
        if (secret === DEV_JWT_SECRET) {
          new Logger('Auth').warn(
            'JWT_SECRET is not set: tokens are checked with the development secret, which anyone can sign with.',
          );
        }
        // A key object made once: given the string, jsonwebtoken tries to parse it as a public
        // key, fails, and makes a secret key of it on every verification (7% of the order
        // service's CPU under load).
        const key = createSecretKey(Buffer.from(secret, 'utf8'));
        return {
          secretOrKeyProvider: () => key,
          signOptions: { algorithm: 'HS256' },
          verifyOptions: { algorithms: ['HS256'] },
        };
      },
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: BearerAuthGuard }],
  // Services sign their own tokens with it when they call each other.
  exports: [JwtModule],
})
export class AuthModule {}
