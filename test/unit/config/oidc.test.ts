// auth.oidc: shape, cross-checks (https issuer except loopback, the callback path on a secure
// origin, known roles, everything a sign-in needs) and the client secret kept out of the YAML.
import { describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig } from '../../../src/config/load.js'
import { loadSecrets } from '../../../src/config/secrets.js'
import { ConfigError } from '../../../src/errors.js'

const GOOD = {
  enabled: true, issuer: 'https://idp.example.com/realms/main', clientId: 'gatehouse',
  redirectUri: 'https://gatehouse.example.com/auth/oidc/callback', roleMapping: { 'ollama-admins': 'admin', 'ollama-users': 'user' }
}

const problemsOf = (oidc: Record<string, unknown>): string[] => {
  try {
    buildConfig({ auth: { oidc } }, '/tmp')
    return []
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
}

describe('auth.oidc configuration', () => {
  it('is off by default, with the documented defaults', () => {
    const c = buildConfig({}, '/tmp').auth.oidc
    expect(c).toMatchObject({ enabled: false, issuer: null, scopes: ['openid', 'profile', 'email'], usernameClaim: 'preferred_username',
      groupsClaim: 'groups', roleMapping: {}, mfaFromIdp: ['mfa', 'otp', 'hwk'], acceptAccessTokens: { enabled: false, audience: 'gatehouse' },
      clientSecretFile: null })
  })

  it('a complete https configuration is valid', () => {
    expect(problemsOf(GOOD)).toEqual([])
  })

  it('IdP access tokens need single sign-on on, and the IdP\'s issuer must not be Gatehouse\'s own', () => {
    expect(problemsOf({ acceptAccessTokens: { enabled: true } }))
      .toEqual(['auth.oidc.acceptAccessTokens.enabled: needs auth.oidc.enabled (the IdP is not configured)'])
    const clash = (() => {
      try { buildConfig({ auth: { jwt: { issuer: 'https://idp.example.com/realms/main' }, oidc: GOOD } }, '/tmp'); return [] } catch (err) {
        return (err as ConfigError).problems
      }
    })()
    expect(clash).toEqual(['auth.oidc.issuer: must differ from auth.jwt.issuer'])
  })

  it('the issuer is https, except on a loopback address', () => {
    expect(problemsOf({ ...GOOD, issuer: 'http://idp.example.com' })).toEqual(['auth.oidc.issuer: must be https (http only on a loopback address)'])
    expect(problemsOf({ ...GOOD, issuer: 'http://127.0.0.1:8080/realms/test' })).toEqual([])
    expect(problemsOf({ ...GOOD, issuer: 'http://localhost:8080' })).toEqual([])
  })

  it('the redirect URI is the gateway origin followed by /auth/oidc/callback, nothing else', () => {
    for (const redirectUri of ['https://gw.example.com/callback', 'https://gw.example.com/auth/oidc/callback?x=1',
      'https://gw.example.com/auth/oidc/callback#f', 'https://user@gw.example.com/auth/oidc/callback']) {
      expect(problemsOf({ ...GOOD, redirectUri })).toEqual([expect.stringMatching(/^auth\.oidc\.redirectUri: must be the gateway's own origin/)])
    }
    expect(problemsOf({ ...GOOD, redirectUri: 'http://gw.example.com/auth/oidc/callback' }))
      .toEqual(['auth.oidc.redirectUri: must be https (http only on a loopback address)'])
  })

  it('mapped roles must exist', () => {
    expect(problemsOf({ ...GOOD, roleMapping: { staff: 'superuser' } })).toEqual(['auth.oidc.roleMapping.staff: unknown role "superuser"'])
  })

  it('enabled needs an issuer, a client id, a redirect URI, a mapping and the openid scope', () => {
    expect(problemsOf({ enabled: true })).toEqual(expect.arrayContaining([
      'auth.oidc.issuer: required when auth.oidc.enabled is true',
      'auth.oidc.clientId: required when auth.oidc.enabled is true',
      'auth.oidc.redirectUri: required when auth.oidc.enabled is true',
      'auth.oidc.roleMapping: maps no group to a role, so nobody could sign in'
    ]))
    expect(problemsOf({ ...GOOD, scopes: ['profile'] })).toEqual(['auth.oidc.scopes: must include openid'])
  })

  it('a client secret in the YAML is an error: it comes from the environment or a file', () => {
    expect(problemsOf({ ...GOOD, clientSecret: 's3cret' })).toEqual(['auth.oidc.clientSecret: unknown key'])
  })

  it('the client secret is read from GATEHOUSE_OIDC_CLIENT_SECRET first, else from clientSecretFile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-oidc-'))
    writeFileSync(join(dir, 'client-secret'), 'from-file\n')
    const config = buildConfig({ dataDir: join(dir, 'data'), auth: { oidc: { ...GOOD, clientSecretFile: 'client-secret' } } }, dir)
    expect(loadSecrets(config, {}).oidcClientSecret).toBe('from-file')
    expect(loadSecrets(config, { GATEHOUSE_OIDC_CLIENT_SECRET: 'from-env' }).oidcClientSecret).toBe('from-env')
    const missing = buildConfig({ dataDir: join(dir, 'data'), auth: { oidc: { ...GOOD, clientSecretFile: 'nope' } } }, dir)
    expect(() => loadSecrets(missing, {})).toThrow(ConfigError)
  })
})
