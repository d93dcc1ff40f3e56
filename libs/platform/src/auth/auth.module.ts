import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
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
        return {
          secret,
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
