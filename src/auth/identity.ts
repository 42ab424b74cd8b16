// Who a request is: what the credential loaders make of a session token or an API key. The rest
// of the gateway (policy, rate limits, audit) reads it from the request context.

export interface Identity {
  /** `idp_token`: an access token of the single sign-on IdP (acceptAccessTokens) */
  credential: 'session' | 'api_key' | 'idp_token'
  /** user name for sessions, key name for API keys */
  name: string
  roles: string[]
  /** authentication methods (`pwd`, `otp`) for sessions */
  amr: string[]
  /** session id (JWT jti) or API key id */
  credentialId: string
  expiresAt: number | null
  /** a session opened with a one-time password: it may only change the password, see who it is, and log out */
  passwordChangeRequired?: boolean
}
