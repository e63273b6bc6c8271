// @ts-check
/**
 * 我的地址: the address book (GET /api/v1/me/addresses: the default first). Set another default,
 * delete (after a confirm), edit or add through pages/address. (The service request page picks
 * its address from the same book on its own page.)
 */
const api = require('../../utils/api')
const format = require('../../utils/format')
const dialog = require('../../utils/dialog')
const pagedList = require('../../utils/paged-list')

/** @param {any} a the AddressSchema shape */
function shape(a) {
  return { ...a, phoneText: format.maskPhone(a.contact_phone) }
}

Component({
  // one page: the API answers the whole book (no next_cursor)
  behaviors: [pagedList({ path: '/api/v1/me/addresses', shape })],
  data: {
    /** @type {any[]} */
    items: [],
    /** the id of the address being changed (its buttons wait) */
    busy: 0,
  },
  methods: {
    onShow() {
      // Back from adding or editing an address: show the book as it is now.
      if (this.data.state !== 'loading') this.load()
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
      const confirmed = await dialog.confirm({
        title: '删除地址',
        content: `确定删除“${address ? address.text : ''}”吗？`,
        confirmText: '删除',
        confirmColor: '#c0392b',
      })
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
