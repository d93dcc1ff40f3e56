// Prints a bearer token for calling the services by hand, signed (HS256) with the JWT_SECRET
// they use. Only the token goes to stdout, so it can be captured:
//   TOKEN=$(npm run --silent token -- customer-1)
import './dot-env.mjs';
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEV_JWT_SECRET, signToken } from './sign-token.mjs';

const USAGE = `Usage: npm run token -- <customerId> [--admin] [--ttl <seconds>]

  <customerId>     the caller, put in the token's "sub"
  --admin          adds the "admin" role
  --ttl <seconds>  how long the token is valid (default 86400, one day)

Signs with $JWT_SECRET (from the environment or ./.env), or the development secret when it is
unset, for $JWT_ISSUER and $JWT_AUDIENCE (both "ordering" unless set), as the services expect.`;

const DEFAULT_TTL_SECONDS = 24 * 60 * 60;

function fail(problem) {
  console.error(`${problem}\n\n${USAGE}`);
  process.exit(2);
}

function parse(args) {
  const options = { customerId: undefined, admin: false, ttl: DEFAULT_TTL_SECONDS };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === '--admin') {
      options.admin = true;
    } else if (arg === '--ttl' || arg.startsWith('--ttl=')) {
      const value = arg === '--ttl' ? args[++i] : arg.slice('--ttl='.length);
      if (value === undefined || !/^[1-9]\d*$/.test(value)) {
        fail(`--ttl needs a whole number of seconds above zero, not ${value ?? 'nothing'}.`);
      }
      options.ttl = Number(value);
    } else if (arg.startsWith('-')) {
      fail(`Unknown option ${arg}.`);
    } else if (options.customerId === undefined) {
      options.customerId = arg;
    } else {
      fail(`One customer id only; got "${options.customerId}" and "${arg}".`);
    }
  }
  if (options.customerId === undefined || options.customerId.trim() === '') {
    fail('A customer id is required.');
  }
  return options;
}

const { customerId, admin, ttl } = parse(process.argv.slice(2));
console.log(
  signToken(customerId, {
    admin,
    ttlSeconds: ttl,
    secret: process.env.JWT_SECRET || DEV_JWT_SECRET,
    issuer: process.env.JWT_ISSUER || DEFAULT_ISSUER,
    audience: process.env.JWT_AUDIENCE || DEFAULT_AUDIENCE,
  }),
);
