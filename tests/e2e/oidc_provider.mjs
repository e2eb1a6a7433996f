// A real OpenID Provider for the tests: npm `oidc-provider` (a certified OpenID
// Connect implementation) with its development login form, where any password works.
//
//   node oidc_provider.mjs PORT CONFIG_JSON
//
// CONFIG_JSON: { "clients": [ … client metadata … ],
//                "accounts": { "<sub>": { "email": …, "email_verified": …, "name": …, "groups": […] } },
//                "accountsFile": a JSON file of the same, read at each sign-in (instead of "accounts"),
//                "issuer": the issuer URL (default http://127.0.0.1:PORT; another when behind a proxy),
//                "idTokenTtl": seconds (default 3600),
//                "conformIdTokenClaims": true (default: claims only from the user info endpoint) }
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const config = JSON.parse(process.argv[3]);

const accounts = () => (config.accountsFile
  ? JSON.parse(readFileSync(config.accountsFile, 'utf8'))
  : config.accounts);

const provider = new Provider(config.issuer ?? `http://127.0.0.1:${port}`, {
  clients: config.clients,
  async findAccount(ctx, id) {
    const claims = accounts()[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    // 'mail', 'mail_verified', 'display_name': a provider with its own claim names.
    profile: ['name', 'given_name', 'family_name', 'groups', 'mail', 'mail_verified', 'display_name'],
  },
  conformIdTokenClaims: config.conformIdTokenClaims ?? true,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  ttl: { IdToken: config.idTokenTtl ?? 3600 },
  cookies: { keys: ['arca-test-only'] },
});

provider.listen(port, '127.0.0.1', () => {
  console.log('ready');
});
