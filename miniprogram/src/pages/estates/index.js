// @ts-check
/**
 * 添加小区: find an estate and join it. Without a query it lists the estates near me
 * (wx.getLocation type gcj02 → GET /api/v1/estates?lat=&lng=, nearest first with the distance);
 * typing searches by name (debounced, GET /api/v1/estates?q=). Both pages on with the cursor.
 * Refused location is said, with a way to the settings, and the search keeps working. Joining
 * (POST /api/v1/me/estates) makes the estate the current one and goes back; estates I already
 * live in are marked.
 */
const api = require('../../utils/api')
const format = require('../../utils/format')

const PAGE_SIZE = 20
const DEBOUNCE_MS = 300
const HOME = '/pages/index/index'

/** @param {unknown} err */
const messageOf = (err) => (err instanceof api.ApiError ? err.message : '出错了，请重试')

/**
 * What a page keeps outside its data (not rendered): the debounce timer, the number of the
 * latest list request (older answers are dropped), and where I am once located.
 * @typedef {{ timer: any, seq: number, point: { lat: number, lng: number } | null }} Private
 * @type {WeakMap<object, Private>}
 */
const privates = new WeakMap()

/** @param {object} page */
function own(page) {
  let p = privates.get(page)
  if (!p) {
    p = { timer: null, seq: 0, point: null }
    privates.set(page, p)
  }
  return p
}

/**
 * Why wx.getLocation failed, as the page tells it.
 * @param {string} errMsg
 * @returns {{ message: string, hint: string, settings: boolean }}
 */
function locationProblem(errMsg) {
  if (/system permission|LOCATIONSWITCHOFF|location service/i.test(errMsg)) {
    return { message: '手机定位未开启', hint: '请在手机设置中开启定位并允许微信使用位置，或在上方输入小区名称搜索。', settings: false }
  }
  if (/auth|privacy|scope/i.test(errMsg)) {
    return { message: '未获得位置权限', hint: '开启位置权限后可查看附近的小区；也可以在上方输入小区名称搜索。', settings: true }
  }
  return { message: '定位失败', hint: '请稍后重新定位，或在上方输入小区名称搜索。', settings: false }
}

/** wx.getLocation (GCJ-02, what the server's estates use) as a promise. */
function getLocation() {
  return new Promise((resolve, reject) => {
    wx.getLocation({
      type: 'gcj02',
      success: (res) => resolve({ lat: res.latitude, lng: res.longitude }),
      fail: (err) => reject(err),
    })
  })
}

Component({
  data: {
    /** what the list shows: nearby (no query) | search */
    mode: 'nearby',
    q: '',
    /** the list: loading | ready | empty | error | nolocation */
    state: 'loading',
    loadingText: '正在定位…',
    errorMessage: '',
    /** @type {{ message: string, hint: string, settings: boolean }} why there is no location */
    problem: { message: '', hint: '', settings: false },
    /** @type {any[]} the estates shown, with `region`, `distance` and `joined` */
    items: [],
    /** @type {string | null} */
    next: null,
    loadingMore: false,
    /** @type {Record<string, boolean>} ids of the estates I live in */
    joined: {},
    /** the estate being joined */
    joiningId: 0,
  },
  methods: {
    onLoad() {
      this.loadJoined()
      this.locate()
    },

    onUnload() {
      clearTimeout(own(this).timer)
    },

    /** The estates I live in (to mark them); without them the list still works. */
    async loadJoined() {
      try {
        const mine = await api.request('/api/v1/me/estates')
        /** @type {Record<string, boolean>} */
        const joined = {}
        for (const r of mine.items) joined[r.estate.id] = true
        this.setData({ joined, items: this.data.items.map((e) => ({ ...e, joined: Boolean(joined[e.id]) })) })
      } catch (err) {
        // Joining again is harmless (the server answers "already a resident"): nothing to tell.
      }
    },

    /** Where am I: then the estates near me. */
    async locate() {
      const p = own(this)
      const seq = ++p.seq
      this.setData({ state: 'loading', loadingText: '正在定位…', items: [], next: null })
      try {
        p.point = /** @type {{ lat: number, lng: number }} */ (await getLocation())
      } catch (err) {
        if (seq !== p.seq) return
        p.point = null
        const errMsg = /** @type {{ errMsg?: string }} */ (err || {}).errMsg
        this.setData({ state: 'nolocation', problem: locationProblem(String(errMsg || '')) })
        return
      }
      if (seq === p.seq) await this.fetch(true)
    },

    /** @param {boolean} reset the first page (else the next one) */
    async fetch(reset) {
      const p = own(this)
      if (!reset && (!this.data.next || this.data.loadingMore)) return
      const seq = reset ? ++p.seq : p.seq
      /** @type {Record<string, any>} */
      const query = { limit: PAGE_SIZE }
      if (this.data.mode === 'search') query.q = this.data.q.trim()
      else if (p.point) Object.assign(query, p.point)
      else return
      if (!reset) query.cursor = this.data.next
      if (reset) this.setData({ state: 'loading', loadingText: this.data.mode === 'search' ? '搜索中…' : '正在查找附近的小区…', items: [], next: null })
      else this.setData({ loadingMore: true })
      try {
        const page = await api.request('/api/v1/estates', { data: query })
        if (seq !== p.seq) return
        const items = (reset ? [] : this.data.items).concat(page.items.map((/** @type {any} */ e) => this.show(e)))
        this.setData({ items, next: page.next_cursor, state: items.length ? 'ready' : 'empty' })
      } catch (err) {
        if (seq !== p.seq) return
        if (reset) this.setData({ state: 'error', errorMessage: messageOf(err) })
        else api.showError(err)
      } finally {
        if (!reset) this.setData({ loadingMore: false })
      }
    },

    /** @param {any} estate an item of GET /api/v1/estates */
    show(estate) {
      return {
        id: estate.id,
        name: estate.name,
        region: [`${estate.city}${estate.district}`, estate.address].filter(Boolean).join(' · '),
        distance: format.distance(estate.distance_m),
        joined: Boolean(this.data.joined[estate.id]),
      }
    },

    /** @param {WechatMiniprogram.Input} e */
    onInput(e) {
      const p = own(this)
      this.setData({ q: e.detail.value })
      clearTimeout(p.timer)
      p.timer = setTimeout(() => this.applyQuery(), DEBOUNCE_MS)
    },

    onConfirm() {
      clearTimeout(own(this).timer)
      this.applyQuery()
    },

    onClear() {
      clearTimeout(own(this).timer)
      this.setData({ q: '' })
      this.applyQuery()
    },

    /** The query as typed decides the list: a name search, or the estates near me. */
    applyQuery() {
      const q = this.data.q.trim()
      if (q) {
        this.setData({ mode: 'search' })
        this.fetch(true)
      } else if (this.data.mode !== 'nearby' || this.data.state === 'error') {
        this.setData({ mode: 'nearby' })
        this.showNearby()
      }
    },

    showNearby() {
      if (own(this).point) return this.fetch(true)
      return this.locate()
    },

    onRetry() {
      if (this.data.mode === 'search') this.fetch(true)
      else this.showNearby()
    },

    onRelocate() {
      this.locate()
    },

    /** Location was refused: the settings page (from a tap, as WeChat requires), then try again. */
    onOpenSetting() {
      wx.openSetting({ success: () => this.locate() })
    },

    onReachBottom() {
      this.fetch(false)
    },

    async onPullDownRefresh() {
      try {
        await Promise.all([this.loadJoined(), this.data.mode === 'search' ? this.fetch(true) : this.locate()])
      } finally {
        wx.stopPullDownRefresh()
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    async onJoin(e) {
      const id = Number(e.currentTarget.dataset.id)
      const estate = this.data.items.find((x) => x.id === id)
      if (!estate || this.data.joiningId) return
      this.setData({ joiningId: id })
      try {
        await api.request('/api/v1/me/estates', { method: 'POST', data: { estate_id: id } })
        getApp().globalData.estateId = id
        this.setData({
          joined: { ...this.data.joined, [id]: true },
          items: this.data.items.map((x) => (x.id === id ? { ...x, joined: true } : x)),
        })
        wx.showToast({ title: `已加入${estate.name}`, icon: 'none' })
        wx.navigateBack({ fail: () => wx.switchTab({ url: HOME }) })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ joiningId: 0 })
      }
    },
  },
})
