// @ts-check
/**
 * WeChat's dialogs as promises.
 */

/**
 * Ask before doing something: wx.showModal, resolving true when the user confirms (false when
 * they cancel or the dialog fails to show).
 * @param {{ title: string, content: string, confirmText?: string, cancelText?: string, confirmColor?: string }} options
 * @returns {Promise<boolean>}
 */
function confirm(options) {
  return new Promise((resolve) => {
    wx.showModal({ ...options, success: (res) => resolve(res.confirm), fail: () => resolve(false) })
  })
}

module.exports = { confirm }
