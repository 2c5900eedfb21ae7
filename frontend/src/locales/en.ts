/**
 * English messages: the typed source of truth, one file per area in `en/`. Each file of `zh-CN/`
 * must satisfy the type of its English twin.
 * vue-i18n syntax: `{name}` interpolates; `|` separates plural forms; `@` and `{`/`}` must be escaped.
 */
import admin from './en/admin'
import base from './en/base'
import chat from './en/chat'
import errors from './en/errors'
import member from './en/member'

const en = { ...base, chat, admin, ...member, errors }

export type MessageSchema = typeof en
export default en
