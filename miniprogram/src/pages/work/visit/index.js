// @ts-check
/**
 * Announce a visit day (POST /api/v1/engineer/visits {estate_id, date, slots, note}, one
 * Idempotency-Key per announcement): an estate I serve (the one chosen last time preselected), a
 * day from today to 60 days on, bookable slots (the usual hours to tick, or one of my own), a note.
 * The server notifies the estate's residents (inbox, and WeChat for those subscribed); the page
 * says how many, and lists my upcoming visits in that estate with the slots residents booked
 * (GET /api/v1/estates/{id}/visits).
 */
const api = require('../../../utils/api')
const form = require('../../../utils/form')
const format = require('../../../utils/format')
const reloadable = require('../../../utils/reloadable')
const shared = require('../shared')

const DAY_MS = 24 * 3600 * 1000
const AHEAD_DAYS = 60
const MAX_SLOTS = 16
/** The usual hours, one slot each; these four are ticked to start with (as on the web workbench). */
const USUAL = ['08:00', '09:00', '10:00', '11:00', '13:00', '14:00', '15:00', '16:00', '17:00', '18:00', '19:00']
const TICKED = ['09:00-10:00', '10:00-11:00', '14:00-15:00', '15:00-16:00']

/** @param {string} start "09:00" @returns {string} "09:00-10:00" */
function hourFrom(start) {
  const h = Number(start.slice(0, 2)) + 1
  return `${start}-${h < 10 ? '0' : ''}${h}:${start.slice(3)}`
}

/**
 * @template {{ value: string }} T
 * @param {T[]} slots
 * @returns {T[]}
 */
const sorted = (slots) => slots.slice().sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))

/** @param {any} announcement an item of GET /estates/{id}/visits */
function upcomingRow(announcement) {
  const clock = (/** @type {string} */ iso) => format.beijing(iso).time
  return {
    id: announcement.id,
    day: format.day(announcement.day),
    note: announcement.note || '',
    booked: announcement.slots.filter((/** @type {any} */ s) => !s.available).length,
    slots: announcement.slots.map((/** @type {any} */ s) => ({
      id: s.id, text: `${clock(s.starts_at)}-${clock(s.ends_at)}`, booked: !s.available })),
  }
}

Component({
  behaviors: [reloadable],
  data: {
    /** loading | ready | none (no estate) | error */
    state: 'loading',
    /** @type {any} */
    engineer: null,
    /** @type {{ id: number, name: string }[]} */
    estates: [],
    estateIndex: 0,
    date: '',
    firstDate: '',
    lastDate: '',
    /** @type {{ value: string, selected: boolean }[]} */
    slots: [],
    customStart: '09:30',
    customEnd: '10:30',
    note: '',
    /** @type {Record<string, string>} field errors of the last attempt */
    errors: {},
    sending: false,
    key: '',
    /** @type {any} what the server said of the announcement just made */
    result: null,
    /** loading | ready | empty | error */
    upcomingState: 'loading',
    /** @type {ReturnType<typeof upcomingRow>[]} */
    upcoming: [],
  },
  methods: {
    async load() {
      this.setData({ state: 'loading' })
      /** @type {any} */
      let engineer
      try {
        engineer = await api.request('/api/v1/engineer/me')
      } catch (err) {
        this.setData({ state: 'error' })
        return
      }
      const estates = engineer.estates.map((/** @type {any} */ e) => ({ id: e.id, name: e.name }))
      if (!estates.length) {
        this.setData({ state: 'none' })
        return
      }
      const remembered = shared.rememberedEstate(estates)
      const index = Math.max(0, estates.findIndex((/** @type {any} */ e) => e.id === remembered))
      this.setData({
        state: 'ready', engineer, estates, estateIndex: index,
        date: format.beijing(Date.now() + DAY_MS).date,
        firstDate: format.beijing().date, lastDate: format.beijing(Date.now() + AHEAD_DAYS * DAY_MS).date,
        slots: USUAL.map((start) => ({ value: hourFrom(start), selected: TICKED.includes(hourFrom(start)) })),
        key: api.newKey(),
      })
      this.loadUpcoming()
    },

    estateId() {
      return this.data.estates[this.data.estateIndex].id
    },

    /** My announced visits in the chosen estate, from today on, with what residents booked. */
    async loadUpcoming() {
      const estateId = this.estateId()
      this.setData({ upcomingState: 'loading' })
      try {
        const answer = await api.request(`/api/v1/estates/${estateId}/visits`)
        if (estateId !== this.estateId()) return
        const mine = answer.items.filter((/** @type {any} */ a) => a.engineer.id === this.data.engineer.id).map(upcomingRow)
        this.setData({ upcoming: mine, upcomingState: mine.length ? 'ready' : 'empty' })
      } catch (err) {
        this.setData({ upcomingState: 'error' })
      }
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onEstate(e) {
      const estateIndex = Number(e.detail.value)
      this.setData({ estateIndex, errors: {} })
      shared.rememberEstate(this.data.estates[estateIndex].id)
      this.loadUpcoming()
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onDate(e) {
      this.setData({ date: String(e.detail.value), errors: {} })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onToggle(e) {
      const value = e.currentTarget.dataset.value
      this.setData({ slots: this.data.slots.map((s) => (s.value === value ? { ...s, selected: !s.selected } : s)), errors: {} })
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onCustomStart(e) {
      this.setData({ customStart: String(e.detail.value) })
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onCustomEnd(e) {
      this.setData({ customEnd: String(e.detail.value) })
    },

    onAddSlot() {
      const { customStart, customEnd } = this.data
      if (customEnd <= customStart) {
        this.setData({ errors: { slots: '结束时间须晚于开始时间' } })
        return
      }
      const value = `${customStart}-${customEnd}`
      const others = this.data.slots.filter((s) => s.value !== value)
      this.setData({ slots: sorted([...others, { value, selected: true }]), errors: {} })
    },

    /** @param {WechatMiniprogram.Input} e */
    onNote(e) {
      this.setData({ note: e.detail.value })
    },

    async onSubmit() {
      if (this.data.sending) return
      const slots = this.data.slots.filter((s) => s.selected).map((s) => s.value)
      if (!slots.length || slots.length > MAX_SLOTS) {
        this.setData({ errors: { slots: `请选择 1–${MAX_SLOTS} 个时段` } })
        return
      }
      const estate = this.data.estates[this.data.estateIndex]
      this.setData({ sending: true, errors: {} })
      try {
        const made = await api.request('/api/v1/engineer/visits', {
          method: 'POST', header: { 'Idempotency-Key': this.data.key },
          data: { estate_id: estate.id, date: this.data.date, slots, note: this.data.note.trim() },
        })
        shared.rememberEstate(estate.id)
        this.setData({
          key: api.newKey(), note: '',
          result: {
            title: `已发布${format.day(made.day)}的上门安排`,
            detail: `${estate.name} · ${slots.length} 个可预约时段`,
            notified: `已通知 ${made.notified} 户住户${made.wechat ? `（其中 ${made.wechat} 户收到微信服务通知）` : ''}`,
          },
        })
        wx.pageScrollTo({ scrollTop: 0, duration: 200 })
        this.loadUpcoming()
      } catch (err) {
        const errors = err instanceof api.ApiError && err.status === 422 ? form.fieldErrors(err) : {}
        if (Object.keys(errors).length) this.setData({ errors })
        else api.showError(err)
      } finally {
        this.setData({ sending: false })
      }
    },

    onDismiss() {
      this.setData({ result: null })
    },
  },
})
