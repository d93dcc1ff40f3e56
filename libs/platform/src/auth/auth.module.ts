import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { DEV_JWT_SECRET, type ServiceEnvironment } from '../config/environment.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import { BearerTokens, TOKEN_SETTINGS, type TokenSettings } from './bearer-tokens.js';

/** Requires a bearer token on every HTTP route of the application that is not `@Public()`. */
@Module({
  providers: [
    {
      provide: BearerTokens,
      inject: [ConfigService],
      useFactory: (config: ConfigService<ServiceEnvironment, true>) => {
        const settings = Object.fromEntries(
          TOKEN_SETTINGS.map((name) => [name, config.get(name, { infer: true })]),
        ) as TokenSettings;
        // Production refuses to start with it (the environment's check); elsewhere, a reminder.
        if (settings.JWT_SECRET === DEV_JWT_SECRET) {
          new Logger('Auth').warn(
            'JWT_SECRET is not set: tokens are checked with the development secret, which anyone can sign with.',
          );
        }
        return BearerTokens.from(settings);
      },
    },
    { provide: APP_GUARD, useClass: BearerAuthGuard },
  ],
  // Services sign their own tokens with it when they call each other.
  exports: [BearerTokens],
})
export class AuthModule {}
