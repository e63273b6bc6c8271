// @ts-check
/**
 * My customers (GET /api/v1/engineer/customers, newest first, cursor-paginated): residents who
 * bound me as their steward, each with their estate, my last visit and their health (the band badge
 * with the score and its trend). Search by name or phone digits (the last four of the masked number
 * do), filter by estate when I serve several and by health band, or put the lowest scores first
 * (`sort=health`); a tap opens the customer.
 */
const api = require('../../../utils/api')
const format = require('../../../utils/format')
const pagedList = require('../../../utils/paged-list')
const shared = require('../shared')

const PAGE_SIZE = 20
/** The band filter: 全部 first, then the bands as the web names them. */
const BANDS = [{ key: '', title: '全部' }, ...['red', 'yellow', 'green'].map((key) => ({
  key, title: shared.BAND_LABELS[/** @type {keyof typeof shared.BAND_LABELS} */ (key)] }))]

/** @param {any} c the API's customer */
function row(c) {
  return {
    id: c.user_id,
    name: c.display_name || '未设置昵称',
    initial: (c.display_name || '住').slice(0, 1),
    phone: c.phone || '未留手机号',
    estate: c.estate ? c.estate.name : '',
    lastVisit: c.last_visit_at ? `最近上门 ${format.datetime(c.last_visit_at)}` : '尚无上门记录',
    since: `${format.datetime(c.since, { time: false })}成为客户`,
    health: shared.health(c.health),
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/engineer/customers', shape: row, cursor: 'nextCursor' })],
  data: {
    /** @type {ReturnType<typeof row>[]} */
    items: [],
    /** what is typed; `q` is what the list shows */
    query: '',
    q: '',
    /** @type {{ id: number, name: string }[]} the estate filter's choices: 全部小区 first */
    estateChoices: [{ id: 0, name: '全部小区' }],
    estateIndex: 0,
    bands: BANDS,
    /** '' (all) | red | yellow | green */
    band: '',
    /** the lowest health scores first (else the newest customers first) */
    worstFirst: false,
  },
  methods: {
    onLoad() {
      this.loadEstates()
      this.load()
    },

    /** The estate filter (only when I serve several); the list does not wait for it. */
    async loadEstates() {
      try {
        const engineer = await api.request('/api/v1/engineer/me')
        this.setData({ estateChoices: [{ id: 0, name: '全部小区' }, ...engineer.estates.map((/** @type {any} */ e) => ({ id: e.id, name: e.name }))] })
      } catch (err) {
        // without it the list is still whole: the filter just is not offered
      }
    },

    listQuery() {
      const estate = this.data.estateChoices[this.data.estateIndex]
      return {
        limit: PAGE_SIZE, q: this.data.q || undefined, estate_id: estate && estate.id ? estate.id : undefined,
        health: this.data.band || undefined, sort: this.data.worstFirst ? 'health' : undefined,
      }
    },

    /** @param {WechatMiniprogram.Input} e */
    onQuery(e) {
      this.setData({ query: e.detail.value })
    },

    onSearch() {
      this.setData({ q: this.data.query.trim(), state: 'loading' })
      this.load()
    },

    onClear() {
      this.setData({ query: '', q: '', state: 'loading' })
      this.load()
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onEstate(e) {
      this.setData({ estateIndex: Number(e.detail.value), state: 'loading' })
      this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onBand(e) {
      const band = String(e.currentTarget.dataset.key || '')
      if (band === this.data.band) return
      this.setData({ band, state: 'loading' })
      this.load()
    },

    onSort() {
      this.setData({ worstFirst: !this.data.worstFirst, state: 'loading' })
      this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onOpen(e) {
      wx.navigateTo({ url: `/pages/work/customer/index?id=${e.currentTarget.dataset.id}` })
    },

    onCode() {
      wx.navigateTo({ url: '/pages/work/code/index' })
    },
  },
})
