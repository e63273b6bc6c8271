/**
 * utils/dialog: wx.showModal as a promise.
 */
const dialog = require('../../src/utils/dialog')

test('confirm shows the dialog as asked and resolves with the answer', async () => {
  await expect(dialog.confirm({ title: '删除地址', content: '确定删除吗？', confirmText: '删除', confirmColor: '#c0392b' })).resolves.toBe(true)
  expect(mp.called('showModal')[0]).toEqual(expect.objectContaining({
    title: '删除地址', content: '确定删除吗？', confirmText: '删除', confirmColor: '#c0392b' }))
  mp.modalConfirm = false
  await expect(dialog.confirm({ title: '取消兑换', content: '取消吗？', cancelText: '再想想' })).resolves.toBe(false)
  expect(mp.called('showModal')[1].cancelText).toBe('再想想')
})

test('a dialog that fails to show counts as not confirmed', async () => {
  const showModal = wx.showModal
  wx.showModal = (args) => setTimeout(() => args.fail({ errMsg: 'showModal:fail' }), 0)
  try {
    await expect(dialog.confirm({ title: 't', content: 'c' })).resolves.toBe(false)
  } finally {
    wx.showModal = showModal
  }
})
