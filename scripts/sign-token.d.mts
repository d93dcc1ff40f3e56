export declare const DEV_JWT_SECRET: string;
export declare const DEFAULT_ISSUER: string;
export declare const DEFAULT_AUDIENCE: string;

export declare function signToken(
  subject: string,
  options: {
    admin?: boolean;
    ttlSeconds: number;
    secret?: string;
    issuer?: string;
    audience?: string;
    claims?: Record<string, unknown>;
  },
): string;
