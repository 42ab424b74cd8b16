// The Gatehouse web console: sign-in (password, one-time password change, TOTP or its enrollment),
// then the admin pages or, for everyone else, "my account". All data through /auth/* and /admin/*.
import { render } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import type { ComponentChildren } from 'preact'
import QRCode from 'qrcode'
import uPlot from 'uplot'
import { api, ApiError, errorText, whenSessionEnds } from './api.js'

interface Me { username: string, roles: string[], amr: string[], expires_at: string | null, password_change_required: boolean }
type LoginReply =
  | { status: 'ok', password_change_required?: boolean }
  | { status: 'mfa_required', mfa_token: string }
  | { status: 'mfa_enrollment_required', mfa_token: string, otpauth_url: string }

const SIGNED_IN = 'gatehouse-console-signed-in'
const when = (ms: number | null | undefined): string => ms == null ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + 'Z'

function Field (p: { label: string, name: string, type?: string, value: string, onInput: (v: string) => void,
  autocomplete?: string, required?: boolean, inputmode?: string, pattern?: string }) {
  return (
    <label>{p.label}
      <input name={p.name} type={p.type ?? 'text'} value={p.value} required={p.required ?? true} autocomplete={p.autocomplete}
        inputMode={p.inputmode as 'numeric' | undefined} pattern={p.pattern}
        onInput={(e) => p.onInput((e.target as HTMLInputElement).value)} />
    </label>
  )
}

function ErrorLine ({ error }: { error: string | null }) {
  return error === null ? null : <p class="error" role="alert">{error}</p>
}

function CopyButton ({ text }: { text: string }) {
  const [done, setDone] = useState(false)
  return <button type="button" class="secondary" onClick={() => {
    void navigator.clipboard?.writeText(text).then(() => setDone(true), () => setDone(false))
  }}>{done ? 'Copied' : 'Copy'}</button>
}

/** a button that asks first when `confirm` is set, and shows its own error next to it */
function Action (p: { label: string, run: () => Promise<unknown>, confirm?: string, danger?: boolean, after?: () => void }) {
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  return (
    <span>
      <button type="button" class={p.danger === true ? 'danger' : 'secondary'} disabled={busy} onClick={async () => {
        if (p.confirm !== undefined && !window.confirm(p.confirm)) return
        setBusy(true); setError(null)
        try { await p.run(); p.after?.() } catch (e) { setError(errorText(e)) } finally { setBusy(false) }
      }}>{p.label}</button>
      <ErrorLine error={error} />
    </span>
  )
}

function useLoad<T> (load: () => Promise<T>, deps: unknown[] = []): { data: T | null, error: string | null, reload: () => void } {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [n, setN] = useState(0)
  useEffect(() => {
    let live = true
    load().then((d) => { if (live) { setData(d); setError(null) } }, (e) => { if (live) setError(errorText(e)) })
    return () => { live = false }
  }, [n, ...deps])
  return { data, error, reload: () => setN((x) => x + 1) }
}

// ---------------------------------------------------------------- sign-in

function QrCanvas ({ url }: { url: string }) {
  const ref = useRef<HTMLCanvasElement>(null)
  useEffect(() => { if (ref.current) void QRCode.toCanvas(ref.current, url, { width: 220, margin: 2 }) }, [url])
  return <canvas ref={ref} class="qr" aria-label="QR code to scan with an authenticator app" role="img" />
}

/** The TOTP step the single sign-on callback put in the fragment (`#status=…&mfa_token=…`), if any. */
function ssoStep (hash: string): LoginReply | null {
  const f = new URLSearchParams(hash.replace(/^#/, ''))
  const status = f.get('status')
  const token = f.get('mfa_token')
  if (token === null || token === '') return null
  if (status === 'mfa_required') return { status, mfa_token: token }
  const url = f.get('otpauth_url')
  if (status === 'mfa_enrollment_required' && url !== null && url.startsWith('otpauth://')) {
    return { status, mfa_token: token, otpauth_url: url }
  }
  return null
}

function SignIn ({ message, done }: { message: string | null, done: () => void }) {
  const [step, setStep] = useState<'password' | 'change' | 'code' | 'enroll'>('password')
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [newPassword, setNewPassword] = useState('')
  const [repeat, setRepeat] = useState('')
  const [code, setCode] = useState('')
  const [mfaToken, setMfaToken] = useState('')
  const [otpauth, setOtpauth] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  // an enrolled user's password change needs a (fresh) code too
  const [enrolled, setEnrolled] = useState(false)

  async function next (r: LoginReply) {
    setCode('')
    if (r.status === 'ok') {
      if (r.password_change_required === true) { setStep('change'); return }
      sessionStorage.setItem(SIGNED_IN, '1'); done(); return
    }
    setMfaToken(r.mfa_token)
    if (r.status === 'mfa_required') { setEnrolled(true); setStep('code') }
    else { setOtpauth(r.otpauth_url); setStep('enroll') }
  }
  async function submit (e: Event, run: () => Promise<void>) {
    e.preventDefault(); setBusy(true); setError(null)
    try { await run() } catch (err) { setError(errorText(err)) } finally { setBusy(false) }
  }
  const secret = otpauth === '' ? '' : new URL(otpauth).searchParams.get('secret') ?? ''
  // single sign-on: the button when it is on, and the TOTP step the IdP's callback hands over in the
  // URL fragment (a fragment never reaches a server), taken once and cleared from the address bar
  const [sso, setSso] = useState(false)
  useEffect(() => {
    api<{ sso: boolean }>('GET', '/auth/methods', undefined, { quiet401: true }).then((m) => setSso(m.sso), () => setSso(false))
    const handed = ssoStep(location.hash)
    if (handed !== null) {
      history.replaceState(null, '', location.pathname)
      void next(handed)
    }
  }, [])

  return (
    <main class="signin">
      <section class="card">
        <h1>Gatehouse console</h1>
        {message !== null && step === 'password' && <p class="error" role="status">{message}</p>}
        {step === 'password' && (
          <form class="stack" aria-label="Sign in" onSubmit={(e) => submit(e, async () =>
            next(await api<LoginReply>('POST', '/auth/login', { username, password }, { quiet401: true })))}>
            <Field label="Username" name="username" value={username} onInput={setUsername} autocomplete="username" />
            <Field label="Password" name="password" type="password" value={password} onInput={setPassword} autocomplete="current-password" />
            <button type="submit" disabled={busy}>Sign in</button>
            <ErrorLine error={error} />
          </form>
        )}
        {step === 'password' && sso && (
          <p class="sso"><a class="button secondary" href="/auth/oidc/login">Sign in with single sign-on</a></p>
        )}
        {step === 'change' && (
          <form class="stack" aria-label="Choose a new password" onSubmit={(e) => submit(e, async () => {
            if (newPassword !== repeat) throw new Error('the two new passwords differ')
            const r = await api<LoginReply>('POST', '/auth/password',
              { current_password: password, new_password: newPassword, ...(enrolled ? { code } : {}) }, { quiet401: true })
            setPassword(newPassword)
            await next(r)
          })}>
            <h2>Choose a new password</h2>
            <p>Your password is a one-time password. Choose your own before you go on.</p>
            <Field label="New password" name="new_password" type="password" value={newPassword} onInput={setNewPassword} autocomplete="new-password" />
            <Field label="New password again" name="new_password_repeat" type="password" value={repeat} onInput={setRepeat} autocomplete="new-password" />
            {enrolled && <Field label="A new authenticator code (not the one just used)" name="code" value={code} onInput={setCode}
              autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]{6}" />}
            <button type="submit" disabled={busy}>Set password</button>
            <ErrorLine error={error} />
          </form>
        )}
        {(step === 'code' || step === 'enroll') && (
          <form class="stack" aria-label="Authenticator code" onSubmit={(e) => submit(e, async () =>
            next(await api<LoginReply>('POST', '/auth/mfa', { mfa_token: mfaToken, code }, { quiet401: true })))}>
            {step === 'enroll' && <>
              <h2>Set up your authenticator</h2>
              <p>Scan this QR code with an authenticator app, or type the secret in, then enter the code it shows.</p>
              <QrCanvas url={otpauth} />
              <p>Secret: <span class="secret" data-testid="totp-secret">{secret}</span></p>
            </>}
            <Field label="6-digit code" name="code" value={code} onInput={setCode} autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]{6}" />
            <button type="submit" disabled={busy}>Verify</button>
            <ErrorLine error={error} />
          </form>
        )}
      </section>
    </main>
  )
}

// ---------------------------------------------------------------- admin pages

interface User { username: string, roles: string[], status: string, mfaEnrolled: boolean, passwordMustChange: boolean,
  lastLoginAt: number | null, lockedUntil: number | null, source?: 'local' | 'oidc' }
interface Session { id: string, createdAt: number, expiresAt: number, lastSeenAt: number, revokedAt: number | null, sourceIp: string }
interface Key { id: string, name: string, role: string, prefix: string, createdAt: number, expiresAt: number | null,
  lastUsedAt: number | null, status: string }

function Sessions ({ username, self }: { username: string, self: boolean }) {
  const { data, error, reload } = useLoad(() => api<{ sessions: Session[] }>('GET', `/admin/users/${encodeURIComponent(username)}/sessions`), [username])
  const live = (data?.sessions ?? []).filter((s) => s.revokedAt === null && s.expiresAt > Date.now())
  return (
    <div>
      <ErrorLine error={error} />
      {data !== null && live.length === 0 && <p class="empty">No live sessions.</p>}
      {live.length > 0 && <table><thead><tr><th>Started</th><th>Last seen</th><th>From</th><th>Expires</th><th /></tr></thead><tbody>
        {live.map((s) => <tr key={s.id}><td>{when(s.createdAt)}</td><td>{when(s.lastSeenAt)}</td><td>{s.sourceIp}</td><td>{when(s.expiresAt)}</td>
          <td><Action label="End" danger confirm={`End this session of ${username}${self ? ' (maybe this one)' : ''}?`}
            run={() => api('DELETE', `/admin/sessions/${encodeURIComponent(s.id)}`)} after={reload} /></td></tr>)}
      </tbody></table>}
    </div>
  )
}

function UsersPage ({ me }: { me: Me }) {
  const { data, error, reload } = useLoad(() => api<{ users: User[] }>('GET', '/admin/users'))
  const [name, setName] = useState('')
  const [role, setRole] = useState('user')
  const [created, setCreated] = useState<{ username: string, password: string | null } | null>(null)
  const [addError, setAddError] = useState<string | null>(null)
  const [open, setOpen] = useState<string | null>(null)
  const [roles, setRoles] = useState<Record<string, string>>({})
  const [passwords, setPasswords] = useState<Record<string, string>>({})
  const u = (n: string) => `/admin/users/${encodeURIComponent(n)}`
  return (
    <>
      <h1>Users</h1>
      <section class="card">
        <h2>Add a user</h2>
        <form class="inline" aria-label="Add a user" onSubmit={async (e) => {
          e.preventDefault(); setAddError(null); setCreated(null)
          try {
            const r = await api<{ user: User, one_time_password?: string }>('POST', '/admin/users', { username: name, role })
            setCreated({ username: r.user.username, password: r.one_time_password ?? null }); setName(''); reload()
          } catch (err) { setAddError(errorText(err)) }
        }}>
          <Field label="Username" name="username" value={name} onInput={setName} autocomplete="off" />
          <Field label="Role" name="role" value={role} onInput={setRole} autocomplete="off" />
          <button type="submit">Add user</button>
        </form>
        <ErrorLine error={addError} />
        {created !== null && created.password !== null && (
          <div class="notice" role="status">
            <p>User <strong>{created.username}</strong> created. One-time password (shown only now; they must change it at first sign-in):</p>
            <p><span class="secret" data-testid="one-time-password">{created.password}</span> <CopyButton text={created.password} />
              {' '}<button type="button" class="secondary" onClick={() => setCreated(null)}>Done</button></p>
          </div>
        )}
      </section>
      <section class="card">
        <h2>All users</h2>
        <ErrorLine error={error} />
        {data === null && error === null && <p class="loading">Loading…</p>}
        {data !== null && data.users.length === 0 && <p class="empty">No users yet.</p>}
        {data !== null && data.users.length > 0 && <table><thead><tr><th>User</th><th>Role</th><th>Status</th><th>MFA</th><th>Last sign-in</th><th>Actions</th></tr></thead>
          <tbody>{data.users.map((x) => <>
            <tr key={x.username} data-user={x.username}>
              <td>{x.username}{x.passwordMustChange && <small> (one-time password)</small>}</td>
              <td>{x.roles.join(', ')}</td>
              <td>{x.status}{x.lockedUntil !== null && ' · locked'}</td>
              <td>{x.mfaEnrolled ? 'enrolled' : 'not enrolled'}</td>
              <td>{when(x.lastLoginAt)}</td>
              <td class="actions">
                {x.status === 'active'
                  ? <Action label="Disable" danger confirm={`Disable ${x.username}? Their sessions end now.`} run={() => api('POST', `${u(x.username)}/disable`)} after={reload} />
                  : <Action label="Enable" run={() => api('POST', `${u(x.username)}/enable`)} after={reload} />}
                <label>Role <input name={`role-${x.username}`} value={roles[x.username] ?? x.roles[0] ?? ''} size={8}
                  onInput={(e) => setRoles({ ...roles, [x.username]: (e.target as HTMLInputElement).value })} /></label>
                <Action label="Set role" confirm={`Change the role of ${x.username}? Their sessions end now.`}
                  run={() => api('POST', `${u(x.username)}/role`, { role: roles[x.username] ?? x.roles[0] })} after={reload} />
                <Action label="Reset MFA" danger confirm={`Reset the authenticator of ${x.username}? They enroll again at next sign-in.`}
                  run={() => api('POST', `${u(x.username)}/reset-mfa`)} after={reload} />
                {x.lockedUntil !== null && <Action label="Unlock" run={() => api('POST', `${u(x.username)}/unlock`)} after={reload} />}
                {x.source !== 'oidc' && <>
                  <label>One-time password <input type="password" name={`password-${x.username}`} value={passwords[x.username] ?? ''}
                    size={10} autocomplete="new-password"
                    onInput={(e) => setPasswords({ ...passwords, [x.username]: (e.target as HTMLInputElement).value })} /></label>
                  <Action label="Set password" confirm={`Set a one-time password for ${x.username}? Their sessions end now.`}
                    run={() => api('POST', `${u(x.username)}/password`, { password: passwords[x.username] ?? '', temporary: true })}
                    after={() => { setPasswords({ ...passwords, [x.username]: '' }); reload() }} />
                </>}
                {x.username !== me.username && <Action label="Delete" danger
                  confirm={`Delete ${x.username}? Their account data goes; their audit events stay.`}
                  run={() => api('DELETE', u(x.username))} after={reload} />}
                <button type="button" class="secondary" aria-expanded={open === x.username}
                  onClick={() => setOpen(open === x.username ? null : x.username)}>Sessions</button>
              </td>
            </tr>
            {open === x.username && <tr key={`${x.username}-s`}><td colSpan={6}><Sessions username={x.username} self={x.username === me.username} /></td></tr>}
          </>)}</tbody></table>}
      </section>
    </>
  )
}

function KeysPage () {
  const { data, error, reload } = useLoad(() => api<{ keys: Key[] }>('GET', '/admin/keys'))
  const [name, setName] = useState('')
  const [role, setRole] = useState('user')
  const [expires, setExpires] = useState('90d')
  const [shown, setShown] = useState<{ name: string, key: string } | null>(null)
  const [addError, setAddError] = useState<string | null>(null)
  const keys = data?.keys ?? []
  return (
    <>
      <h1>API keys</h1>
      <section class="card">
        <h2>Create a key</h2>
        <form class="inline" aria-label="Create a key" onSubmit={async (e) => {
          e.preventDefault(); setAddError(null); setShown(null)
          try {
            const r = await api<{ key: string, record: Key }>('POST', '/admin/keys', { name, role, ...(expires === '' ? {} : { expires_in: expires }) })
            setShown({ name: r.record.name, key: r.key }); setName(''); reload()
          } catch (err) { setAddError(errorText(err)) }
        }}>
          <Field label="Name" name="name" value={name} onInput={setName} autocomplete="off" />
          <Field label="Role" name="role" value={role} onInput={setRole} autocomplete="off" />
          <Field label="Expires in (e.g. 90d; empty: never)" name="expires_in" value={expires} onInput={setExpires} required={false} autocomplete="off" />
          <button type="submit">Create key</button>
        </form>
        <ErrorLine error={addError} />
        {shown !== null && <KeyNotice name={shown.name} apiKey={shown.key} close={() => setShown(null)} />}
      </section>
      <section class="card">
        <h2>All keys</h2>
        <ErrorLine error={error} />
        {data !== null && keys.length === 0 && <p class="empty">No API keys yet.</p>}
        {keys.length > 0 && <table><thead><tr><th>Name</th><th>Prefix</th><th>Role</th><th>Status</th><th>Created</th><th>Expires</th><th>Last used</th><th>Actions</th></tr></thead>
          <tbody>{keys.map((k) => <tr key={k.id} data-key={k.name}>
            <td>{k.name}</td><td class="secret">{k.prefix}</td><td>{k.role}</td><td>{k.status}</td><td>{when(k.createdAt)}</td>
            <td>{when(k.expiresAt)}</td><td>{when(k.lastUsedAt)}</td>
            <td class="actions">{k.status === 'active' && <>
              <Action label="Rotate" confirm={`Rotate ${k.name}? The old key stays valid for 24 hours.`}
                run={async () => { const r = await api<{ key: string, record: Key }>('POST', `/admin/keys/${encodeURIComponent(k.id)}/rotate`, { grace: '24h' }); setShown({ name: k.name, key: r.key }) }} after={reload} />
              <Action label="Revoke" danger confirm={`Revoke ${k.name}? Anything using it is refused at once.`}
                run={() => api('POST', `/admin/keys/${encodeURIComponent(k.id)}/revoke`)} after={reload} />
            </>}</td>
          </tr>)}</tbody></table>}
      </section>
    </>
  )
}

function KeyNotice ({ name, apiKey, close }: { name: string, apiKey: string, close: () => void }) {
  return (
    <div class="notice" role="status">
      <p>Key <strong>{name}</strong> (shown only now; only its hash is kept):</p>
      <p><span class="secret" data-testid="api-key">{apiKey}</span> <CopyButton text={apiKey} />{' '}
        <button type="button" class="secondary" onClick={close}>Done</button></p>
    </div>
  )
}

function Cell ({ v }: { v: unknown }) {
  if (v === null || v === undefined) return <>—</>
  if (typeof v === 'object') return <span class="secret">{JSON.stringify(v)}</span>
  return <>{String(v)}</>
}

function ObjectTable ({ rows, empty }: { rows: Array<Record<string, unknown>>, empty: string }) {
  if (rows.length === 0) return <p class="empty">{empty}</p>
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  return <table><thead><tr>{cols.map((c) => <th key={c}>{c}</th>)}</tr></thead>
    <tbody>{rows.map((r, i) => <tr key={i}>{cols.map((c) => <td key={c}><Cell v={r[c]} /></td>)}</tr>)}</tbody></table>
}

function UpstreamsPage () {
  const { data, error } = useLoad(() => api<{ upstreams: Array<Record<string, unknown>> }>('GET', '/admin/upstreams'))
  return <><h1>Upstream hosts</h1><section class="card"><ErrorLine error={error} />
    {data !== null && <ObjectTable rows={data.upstreams} empty="No Ollama hosts are configured." />}</section></>
}

/** the rows of a usage reply, whatever the grouping: the first array in it */
/** GET /admin/usage: one row per group (`name` is the user, key, model, host, or the UTC date with by=day) */
interface UsageRow { name: string | null, requests: number, inputTokens: number, outputTokens: number, totalTokens: number }
interface UsageReply { since: string, until: string, by: string, rows: UsageRow[], total: Omit<UsageRow, 'name'> }

function UsageChart ({ rows }: { rows: UsageRow[] }) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = ref.current
    if (el === null || rows.length === 0) return
    const xs = rows.map((r) => Math.floor(Date.parse(r.name ?? '') / 1000))
    const plot = new uPlot({
      width: Math.max(280, el.clientWidth), height: 240,
      series: [{}, { label: 'tokens', stroke: '#1f4e79', fill: 'rgba(31,78,121,0.15)' }],
      axes: [{}, { size: 70 }]
    }, [xs, rows.map((r) => r.totalTokens)], el)
    return () => plot.destroy()
  }, [rows])
  return <div ref={ref} class="chart" role="img" aria-label="Tokens per day" />
}

function UsagePage () {
  const [since, setSince] = useState('30d')
  const days = useLoad(() => api<UsageReply>('GET', `/admin/usage?since=${encodeURIComponent(since)}&by=day`), [since])
  const [by, setBy] = useState('user')
  const table = useLoad(() => api<UsageReply>('GET', `/admin/usage?since=${encodeURIComponent(since)}&by=${by}`), [since, by])
  const dayRows = (days.data?.rows ?? []).filter((r) => r.name !== null && !Number.isNaN(Date.parse(r.name)))
  return <>
    <h1>Usage</h1>
    <section class="card">
      <form class="inline" aria-label="Usage period" onSubmit={(e) => e.preventDefault()}>
        <label>Period<select name="since" value={since} onChange={(e) => setSince((e.target as HTMLSelectElement).value)}>
          {['7d', '30d', '90d', '365d'].map((s) => <option key={s} value={s}>last {s}</option>)}</select></label>
        <label>Group by<select name="by" value={by} onChange={(e) => setBy((e.target as HTMLSelectElement).value)}>
          {['user', 'key', 'model', 'upstream'].map((s) => <option key={s} value={s}>{s}</option>)}</select></label>
      </form>
    </section>
    <section class="card"><h2>Tokens per day</h2><ErrorLine error={days.error} />
      {days.data !== null && dayRows.length === 0 && <p class="empty">No usage recorded in this period.</p>}
      {dayRows.length > 0 && <UsageChart rows={dayRows} />}</section>
    <section class="card"><h2>By {by}</h2><ErrorLine error={table.error} />
      {table.data !== null && <ObjectTable rows={table.data.rows.map((r) => ({ [by]: r.name ?? '—', requests: r.requests,
        'input tokens': r.inputTokens, 'output tokens': r.outputTokens, 'total tokens': r.totalTokens }))}
      empty="No usage recorded in this period." />}</section>
  </>
}

interface AuditEvent { '@timestamp': string, event: { action: string, outcome: string, reason?: string }, user?: { name?: string, target?: { name?: string } },
  source?: { ip?: string }, gatehouse?: { reason?: string } }
interface AuditReply { file: string | null, events: AuditEvent[], chain: { ok: boolean | null, events?: number, error?: string, firstBad?: { file: string, line: number, reason: string } } }

function AuditPage () {
  const [action, setAction] = useState('')
  const [user, setUser] = useState('')
  const [outcome, setOutcome] = useState('')
  const [query, setQuery] = useState('')
  const { data, error, reload } = useLoad(() => api<AuditReply>('GET', `/admin/audit?limit=200${query}`), [query])
  const chain = data?.chain
  return <>
    <h1>Audit log</h1>
    <section class="card">
      <form class="inline" aria-label="Filter audit events" onSubmit={(e) => {
        e.preventDefault()
        const p = new URLSearchParams()
        if (action !== '') p.set('action', action)
        if (user !== '') p.set('user', user)
        if (outcome !== '') p.set('outcome', outcome)
        const q = p.toString()
        if (`&${q}` === query || (q === '' && query === '')) reload(); else setQuery(q === '' ? '' : `&${q}`)
      }}>
        <Field label="Action" name="action" value={action} onInput={setAction} required={false} autocomplete="off" />
        <Field label="User" name="user" value={user} onInput={setUser} required={false} autocomplete="off" />
        <label>Outcome<select name="outcome" value={outcome} onChange={(e) => setOutcome((e.target as HTMLSelectElement).value)}>
          <option value="">any</option><option value="success">success</option><option value="failure">failure</option></select></label>
        <button type="submit">Show</button>
      </form>
      {chain !== undefined && <p data-testid="chain-status">{chain.ok === true
        ? <span class="chain-ok">Chain verifies ({chain.events ?? 0} events).</span>
        : chain.ok === false
          ? <span class="chain-bad">Chain does NOT verify: {chain.firstBad ? `${chain.firstBad.file}:${chain.firstBad.line}: ${chain.firstBad.reason}` : 'unknown'}</span>
          : <span class="chain-bad">Chain not checked: {chain.error}</span>}</p>}
    </section>
    <section class="card"><ErrorLine error={error} />
      {data !== null && data.events.length === 0 && <p class="empty">No events match.</p>}
      {data !== null && data.events.length > 0 && <table><thead><tr><th>Time</th><th>Action</th><th>Outcome</th><th>User</th><th>Target</th><th>From</th><th>Reason</th></tr></thead>
        <tbody>{data.events.map((e, i) => <tr key={i}><td>{e['@timestamp'].replace('T', ' ').slice(0, 19)}</td><td>{e.event.action}</td>
          <td class={e.event.outcome === 'failure' ? 'error' : ''}>{e.event.outcome}</td><td>{e.user?.name ?? '—'}</td>
          <td>{e.user?.target?.name ?? '—'}</td><td>{e.source?.ip ?? '—'}</td><td>{e.event.reason ?? e.gatehouse?.reason ?? ''}</td></tr>)}</tbody></table>}
    </section>
  </>
}

interface Check { id: string, control: string, title: string, verdict: string, detail: string }
function CompliancePage () {
  const { data, error, reload } = useLoad(() => api<{ compliant: boolean, generatedAt: string, checks: Check[] }>('GET', '/admin/compliance'))
  return <>
    <h1>Compliance</h1>
    <section class="card"><ErrorLine error={error} />
      {data === null && error === null && <p class="loading">Running the checks…</p>}
      {data !== null && <>
        <p><strong class={data.compliant ? 'chain-ok' : 'chain-bad'}>{data.compliant ? 'Compliant' : 'Not compliant'}</strong> — {data.generatedAt}
          {' '}<button type="button" class="secondary" onClick={reload}>Run again</button></p>
        {data.checks.length === 0 ? <p class="empty">No checks.</p> : <table><thead><tr><th>Check</th><th>Control</th><th>Verdict</th><th>Detail</th></tr></thead>
          <tbody>{data.checks.map((c) => <tr key={c.id}><td>{c.title}</td><td>{c.control}</td>
            <td class={c.verdict === 'fail' ? 'chain-bad' : c.verdict === 'pass' ? 'chain-ok' : ''}>{c.verdict}</td><td>{c.detail}</td></tr>)}</tbody></table>}
      </>}
    </section>
  </>
}

// ---------------------------------------------------------------- my account

function AccountPage ({ me, signedOut }: { me: Me, signedOut: (m: string | null) => void }) {
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [repeat, setRepeat] = useState('')
  const [code, setCode] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [ok, setOk] = useState<string | null>(null)
  const enrolled = me.amr.includes('otp')
  return <>
    <h1>My account</h1>
    <section class="card">
      <p>Signed in as <strong>{me.username}</strong> ({me.roles.join(', ')}); this session ends at {me.expires_at ?? '—'}.</p>
    </section>
    <section class="card">
      <h2>Change password</h2>
      <form class="stack" aria-label="Change password" onSubmit={async (e) => {
        e.preventDefault(); setError(null); setOk(null)
        try {
          if (next !== repeat) throw new Error('the two new passwords differ')
          const r = await api<LoginReply>('POST', '/auth/password', { current_password: current, new_password: next, ...(code === '' ? {} : { code }) })
          setCurrent(''); setNext(''); setRepeat(''); setCode('')
          if (r.status === 'ok') setOk('Password changed. Your other sessions have ended.')
          else signedOut('Password changed. Sign in again with the new password.')
        } catch (err) { setError(errorText(err)) }
      }}>
        <Field label="Current password" name="current_password" type="password" value={current} onInput={setCurrent} autocomplete="current-password" />
        <Field label="New password" name="new_password" type="password" value={next} onInput={setNext} autocomplete="new-password" />
        <Field label="New password again" name="new_password_repeat" type="password" value={repeat} onInput={setRepeat} autocomplete="new-password" />
        {enrolled && <Field label="Authenticator code" name="code" value={code} onInput={setCode} autocomplete="one-time-code" inputmode="numeric" />}
        <button type="submit">Change password</button>
        <ErrorLine error={error} />
        {ok !== null && <p class="ok" role="status">{ok}</p>}
      </form>
    </section>
    <section class="card"><h2>My sessions</h2><OwnSessions /></section>
    <section class="card">
      <h2>Sign out</h2>
      <p class="actions">
        <Action label="Sign out" run={async () => { await api('POST', '/auth/logout') }} after={() => signedOut(null)} />{' '}
        <Action label="Sign out everywhere" danger confirm="End every session of yours, on every device, this one too?"
          run={() => api('POST', '/auth/logout-everywhere')} after={() => signedOut('Every session of yours has ended.')} />
      </p>
    </section>
  </>
}

function OwnSessions () {
  const { data, error } = useLoad(() => api<{ sessions: Array<Session & { current: boolean }> }>('GET', '/auth/sessions'))
  return <>
    <ErrorLine error={error} />
    {data !== null && data.sessions.length === 0 && <p class="empty">No live sessions.</p>}
    {data !== null && data.sessions.length > 0 && <table><thead><tr><th>Started</th><th>Last seen</th><th>From</th><th>Expires</th></tr></thead>
      <tbody>{data.sessions.map((x) => <tr key={x.id}><td>{when(x.createdAt)}{x.current && <strong> (this one)</strong>}</td>
        <td>{when(x.lastSeenAt)}</td><td>{x.sourceIp}</td><td>{when(x.expiresAt)}</td></tr>)}</tbody></table>}
  </>
}

// ---------------------------------------------------------------- shell

const ADMIN_PAGES = ['users', 'keys', 'upstreams', 'usage', 'audit', 'compliance', 'account'] as const
const TITLES: Record<string, string> = { users: 'Users', keys: 'API keys', upstreams: 'Upstreams', usage: 'Usage', audit: 'Audit', compliance: 'Compliance', account: 'My account' }
const pageOf = () => location.hash.replace(/^#\/?/, '') || ''

function Shell ({ me, isAdmin, signedOut }: { me: Me, isAdmin: boolean, signedOut: (m: string | null) => void }) {
  const [page, setPage] = useState(pageOf())
  useEffect(() => {
    const f = () => setPage(pageOf())
    window.addEventListener('hashchange', f)
    return () => window.removeEventListener('hashchange', f)
  }, [])
  const pages: readonly string[] = isAdmin ? ADMIN_PAGES : ['account']
  const current = pages.includes(page) ? page : pages[0] as string
  useEffect(() => { document.title = `${TITLES[current] ?? ''} · Gatehouse` }, [current])
  let body: ComponentChildren
  switch (current) {
    case 'users': body = <UsersPage me={me} />; break
    case 'keys': body = <KeysPage />; break
    case 'upstreams': body = <UpstreamsPage />; break
    case 'usage': body = <UsagePage />; break
    case 'audit': body = <AuditPage />; break
    case 'compliance': body = <CompliancePage />; break
    default: body = <AccountPage me={me} signedOut={signedOut} />
  }
  return <>
    <header><strong>Gatehouse</strong><span class="who">{me.username}</span></header>
    <nav aria-label="Pages">{pages.map((p) => <a key={p} href={`#/${p}`} aria-current={p === current ? 'page' : undefined}>{TITLES[p]}</a>)}</nav>
    <main>{body}</main>
  </>
}

function App () {
  const [state, setState] = useState<{ kind: 'loading' } | { kind: 'signin', message: string | null } | { kind: 'in', me: Me, isAdmin: boolean }>({ kind: 'loading' })
  const signedOut = (message: string | null) => { sessionStorage.removeItem(SIGNED_IN); setState({ kind: 'signin', message }) }
  async function load () {
    try {
      const me = await api<Me>('GET', '/auth/me', undefined, { quiet401: true })
      if (me.password_change_required) { signedOut('Sign in again to choose your new password.'); return }
      let isAdmin = false
      try { await api('GET', '/admin/users', undefined, { quiet401: true }); isAdmin = true } catch (e) { if (!(e instanceof ApiError) || e.status !== 403) throw e }
      setState({ kind: 'in', me, isAdmin })
    } catch (e) {
      const had = sessionStorage.getItem(SIGNED_IN) !== null
      signedOut(e instanceof ApiError && e.status === 401
        ? (had ? 'Your session has ended (idle or expired). Please sign in again.' : null)
        : errorText(e))
    }
  }
  useEffect(() => {
    whenSessionEnds(() => signedOut('Your session has ended (idle or expired). Please sign in again.'))
    void load()
  }, [])
  if (state.kind === 'loading') return <p class="loading">Loading…</p>
  if (state.kind === 'signin') return <SignIn message={state.message} done={() => { setState({ kind: 'loading' }); void load() }} />
  return <Shell me={state.me} isAdmin={state.isAdmin} signedOut={signedOut} />
}

render(<App />, document.getElementById('app') as HTMLElement)
