import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * The device cookie: a browser that logged in successfully before carries `cws_device`, naming a
 * random device id and the account it logged in as, signed (HMAC-SHA256) with a key derived from
 * the server's secret. The login throttle (login-throttle.ts) counts such a device's failures for
 * that account on their own and never refuses or slows it for others' failures. It grants nothing
 * else: it is not a session and never skips the password.
 */
export const DEVICE_COOKIE = 'cws_device'
/** Long-lived: a year (browsers cap cookies at 400 days). */
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 365 * 86_400

export interface DeviceCookies {
  /** The device id when `value` is a genuine cookie for `account`, else undefined. */
  read: (value: string | undefined, account: string) => string | undefined
  /** A cookie value for `account`: the same device id when it had one, else a new one. */
  issue: (account: string, deviceId?: string) => string
}

export function createDeviceCookies(secret: string): DeviceCookies {
  const key = createHmac('sha256', secret).update('cws device cookie v1').digest()
  const mac = (body: string) => createHmac('sha256', key).update(body).digest('base64url')

  return {
    read(value, account) {
      if (!value || value.length > 512)
        return undefined
      const parts = value.split('.')
      if (parts.length !== 3)
        return undefined
      const [id, name, sig] = parts as [string, string, string]
      const want = Buffer.from(mac(`${id}.${name}`))
      const got = Buffer.from(sig)
      if (got.length !== want.length || !timingSafeEqual(got, want))
        return undefined
      if (Buffer.from(name, 'base64url').toString('utf8') !== account)
        return undefined
      return /^[\w-]{16,64}$/.test(id) ? id : undefined
    },

    issue(account, deviceId) {
      const id = deviceId ?? randomBytes(16).toString('base64url')
      const body = `${id}.${Buffer.from(account, 'utf8').toString('base64url')}`
      return `${body}.${mac(body)}`
    },
  }
}
