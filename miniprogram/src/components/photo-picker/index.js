// @ts-check
/**
 * Photos for a question, a service request, a review or a task's proof: a tap opens
 * wx.chooseMedia, each chosen image is uploaded at once (POST /api/v1/uploads), and `change`
 * carries the upload ids the API takes in `photos`. A failed upload is told in a toast and left out.
 */
const api = require('../../utils/api')

Component({
  properties: {
    max: { type: Number, value: 9 },
    label: { type: String, value: '添加照片' },
  },
  data: {
    /** @type {{ id: string, url: string }[]} */
    photos: [],
    uploading: 0,
  },
  methods: {
    onAdd() {
      const room = this.data.max - this.data.photos.length - this.data.uploading
      if (room <= 0) return
      wx.chooseMedia({
        count: room,
        mediaType: ['image'],
        sizeType: ['compressed'],
        sourceType: ['album', 'camera'],
        success: (res) => this.uploadAll(res.tempFiles.map((f) => f.tempFilePath)),
      })
    },

    /** @param {string[]} paths */
    async uploadAll(paths) {
      this.setData({ uploading: this.data.uploading + paths.length })
      for (const path of paths) {
        try {
          const uploaded = await api.upload(path)
          this.setData({ photos: [...this.data.photos, { id: uploaded.id, url: api.mediaUrl(uploaded.url) }] })
          this.changed()
        } catch (err) {
          api.showError(err)
        } finally {
          this.setData({ uploading: this.data.uploading - 1 })
        }
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onRemove(e) {
      const index = Number(e.currentTarget.dataset.index)
      this.setData({ photos: this.data.photos.filter((_, i) => i !== index) })
      this.changed()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onPreview(e) {
      const urls = this.data.photos.map((p) => p.url)
      wx.previewImage({ urls, current: urls[Number(e.currentTarget.dataset.index)] })
    },

    /** Forget the photos (after the form was sent). */
    clear() {
      this.setData({ photos: [] })
      this.changed()
    },

    changed() {
      this.triggerEvent('change', { ids: this.data.photos.map((p) => p.id) })
    },
  },
})
