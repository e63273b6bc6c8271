// @ts-check
/** Formatting for display: times in Beijing time, phones masked, money, order statuses. */

const BEIJING_OFFSET_MS = 8 * 3600 * 1000

/** @param {number} n */
const pad = (n) => (n < 10 ? `0${n}` : `${n}`)

/**
 * "12月5日 09:30" (this year) or "2025年12月5日 09:30", in Beijing time whatever the phone's zone.
 * @param {string | null | undefined} iso an ISO 8601 time with offset, as the API sends
 * @param {{ date?: boolean, time?: boolean }} [parts]
 */
function datetime(iso, parts = {}) {
  if (!iso) return ''
  const at = new Date(new Date(iso).getTime() + BEIJING_OFFSET_MS)
  const now = new Date(Date.now() + BEIJING_OFFSET_MS)
  const year = at.getUTCFullYear() === now.getUTCFullYear() ? '' : `${at.getUTCFullYear()}年`
  const day = `${year}${at.getUTCMonth() + 1}月${at.getUTCDate()}日`
  const clock = `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}`
  if (parts.date === false) return clock
  if (parts.time === false) return day
  return `${day} ${clock}`
}

/** @param {string | null | undefined} phone "138****0001" */
function maskPhone(phone) {
  if (!phone) return ''
  return phone.length >= 7 ? `${phone.slice(0, 3)}****${phone.slice(-4)}` : phone
}

/**
 * Seconds as "1:59:07" or "59:07" (a countdown).
 * @param {number} seconds
 */
function countdown(seconds) {
  const s = Math.max(0, Math.floor(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`
}

const ORDER_STATUS = { requested: '待派单', assigned: '已派单', scheduled: '已预约', completed: '已完成', cancelled: '已取消' }

module.exports = { datetime, maskPhone, countdown, ORDER_STATUS }
