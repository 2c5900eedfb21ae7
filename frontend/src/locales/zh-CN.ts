import type { MessageSchema } from './en'
import admin from './zh-CN/admin'
import base from './zh-CN/base'
import chat from './zh-CN/chat'
import errors from './zh-CN/errors'
import member from './zh-CN/member'

const zhCN: MessageSchema = { ...base, chat, admin, ...member, errors }

export default zhCN
