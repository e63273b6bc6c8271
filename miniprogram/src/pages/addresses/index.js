// @ts-check
/**
 * 我的地址: the address book (GET /api/v1/me/addresses: the default first). Set another default,
 * delete (after a confirm), edit or add through pages/address. (The service request page picks
 * its address from the same book on its own page.)
 */
const api = require('../../utils/api')
const format = require('../../utils/format')

/** @param {any} a the AddressSchema shape */
function shape(a) {
  return { ...a, phoneText: format.maskPhone(a.contact_phone) }
}

Component({
  data: {
    state: 'loading',
    /** @type {any[]} */
    items: [],
    /** the id of the address being changed (its buttons wait) */
    busy: 0,
  },
  methods: {
    onLoad() {
      this.load()
    },

    onShow() {
      // Back from adding or editing an address: show the book as it is now.
      if (this.data.state !== 'loading') this.load()
    },

    async onPullDownRefresh() {
      await this.load()
      wx.stopPullDownRefresh()
    },

    onRetry() {
      this.setData({ state: 'loading' })
      this.load()
    },

    async load() {
      try {
        const body = await api.request('/api/v1/me/addresses')
        this.setData({ items: body.items.map(shape), state: body.items.length ? 'ready' : 'empty' })
      } catch (err) {
        if (this.data.state === 'loading' || this.data.state === 'error') this.setData({ state: 'error' })
        else api.showError(err)
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onItem(e) {
      const address = this.data.items[Number(e.currentTarget.dataset.index)]
      if (address) wx.navigateTo({ url: `/pages/address/index?id=${address.id}` })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onEdit(e) {
      wx.navigateTo({ url: `/pages/address/index?id=${e.currentTarget.dataset.id}` })
    },

    onAdd() {
      wx.navigateTo({ url: '/pages/address/index' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    async onSetDefault(e) {
      const id = Number(e.currentTarget.dataset.id)
      if (this.data.busy) return
      this.setData({ busy: id })
      try {
        await api.request(`/api/v1/me/addresses/${id}`, { method: 'PUT', data: { is_default: true } })
        await this.load()
        wx.showToast({ title: '已设为默认地址', icon: 'none' })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ busy: 0 })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    async onDelete(e) {
      const id = Number(e.currentTarget.dataset.id)
      if (this.data.busy) return
      const address = this.data.items.find((a) => a.id === id)
      const confirmed = await new Promise((resolve) => wx.showModal({
        title: '删除地址',
        content: `确定删除“${address ? address.text : ''}”吗？`,
        confirmText: '删除',
        confirmColor: '#c0392b',
        success: (res) => resolve(res.confirm),
        fail: () => resolve(false),
      }))
      if (!confirmed) return
      this.setData({ busy: id })
      try {
        await api.request(`/api/v1/me/addresses/${id}`, { method: 'DELETE' })
        await this.load()
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ busy: 0 })
      }
    },
  },
})
