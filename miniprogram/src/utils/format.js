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

/** A redemption's status as the server's notices name it (points.services.STATUS_LABELS). */
const REDEMPTION_STATUS = { pending: '待审核', approved: '已通过', fulfilled: '已发放', rejected: '已拒绝', cancelled: '已取消', voided: '已作废' }

const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六']

/**
 * A calendar day as the API sends it ("2026-12-05") as "12月5日 周六" (with the year when not this one).
 * @param {string | null | undefined} isoDate
 */
function day(isoDate) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate || '')
  if (!m) return ''
  const at = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  const thisYear = new Date(Date.now() + BEIJING_OFFSET_MS).getUTCFullYear()
  const year = at.getUTCFullYear() === thisYear ? '' : `${at.getUTCFullYear()}年`
  return `${year}${at.getUTCMonth() + 1}月${at.getUTCDate()}日 ${WEEKDAYS[at.getUTCDay()]}`
}

/**
 * A calendar day as the API sends it ("2025-03-01") with its year: "2025年3月1日" (install dates,
 * warranty ends: days that are often in another year).
 * @param {string | null | undefined} isoDate
 */
function date(isoDate) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate || '')
  return m ? `${Number(m[1])}年${Number(m[2])}月${Number(m[3])}日` : ''
}

/**
 * How far off a due date is, from the API's `days_left` (negative: overdue): "还有 5 天",
 * "今天到期", "已逾期 3 天".
 * @param {number} daysLeft
 */
function dueIn(daysLeft) {
  if (daysLeft > 0) return `还有 ${daysLeft} 天`
  return daysLeft === 0 ? '今天到期' : `已逾期 ${-daysLeft} 天`
}

/**
 * A distance for people: "850 米", "1.2 公里", "12 公里".
 * @param {number | null | undefined} metres
 */
function distance(metres) {
  if (metres == null || !isFinite(metres)) return ''
  if (Math.round(metres) < 1000) return `${Math.max(0, Math.round(metres))} 米`
  const km = metres / 1000
  return `${km < 10 ? km.toFixed(1).replace(/\.0$/, '') : Math.round(km)} 公里`
}

/**
 * A moment's Beijing calendar day and clock, as pickers take them: {date: "2026-12-05", time: "09:30"}.
 * @param {string | number | null} [at] an ISO 8601 time, or epoch milliseconds; default now
 */
function beijing(at) {
  const ms = at == null ? Date.now() : typeof at === 'number' ? at : new Date(at).getTime()
  const iso = new Date(ms + BEIJING_OFFSET_MS).toISOString()
  return { date: iso.slice(0, 10), time: iso.slice(11, 16) }
}

/**
 * An amount in fen as yuan for people: "¥199", "¥199.50" (null: "").
 * @param {number | null | undefined} fen
 */
function yuan(fen) {
  if (fen == null) return ''
  return `¥${fen % 100 ? (fen / 100).toFixed(2) : String(fen / 100)}`
}

/**
 * An activity's time: "12月10日 14:00–16:00" on one day, else both ends in full.
 * @param {string | null | undefined} startIso
 * @param {string | null | undefined} endIso
 */
function span(startIso, endIso) {
  if (!startIso) return ''
  if (!endIso) return datetime(startIso)
  const sameDay = beijing(startIso).date === beijing(endIso).date
  return `${datetime(startIso)}–${datetime(endIso, sameDay ? { date: false } : {})}`
}

module.exports = { datetime, maskPhone, countdown, ORDER_STATUS, REDEMPTION_STATUS, day, date, dueIn, distance, beijing, yuan, span }
