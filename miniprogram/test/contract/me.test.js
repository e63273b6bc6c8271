/**
 * 我的 against the real server: a fresh resident sets a nickname (a risky one is refused), gets a
 * phone number through the getPhoneNumber button (the fake WeChat mints the button's code), adds
 * an address through the address page and sees it in the address book; an engineer's visit
 * announcement reaches the inbox page, the 我的 tab counts it, and a tap opens the estate tab.
 */
const { load, waitFor, text, tap } = require('../helpers')
const backend = require('./backend')

/** Tomorrow's date in Beijing, as the API takes it. */
function tomorrow() {
  return new Date(Date.now() + (8 + 24) * 3600 * 1000).toISOString().slice(0, 10)
}

test('a fresh resident: nickname, phone, an address in the book, and a notice in the inbox', async () => {
  const { estate, token: engineerToken } = await backend.estateWithEngineer('赵师傅')
  const n = backend.unique()
  mp.openid = `o_me_${n}`

  // 我的: a new resident has no name and no phone
  const me = load('pages/me/index')
  me.instance.onLoad({})
  await waitFor(() => me.data.state !== 'loading', { what: 'the me page' })
  expect(me.data.state).toBe('ready')
  expect(me.data.nickname).toBe('')
  expect(text(me, '.phone-button')).toBe('获取手机号')
  expect(me.querySelector('.entry-work')).toBeUndefined()
  const token = wx.getStorageSync('linli.token')

  // a risky nickname is refused by WeChat's text check, a plain one is kept
  me.querySelector('.nickname').dispatchEvent('blur', { detail: { value: '赌博大王' } })
  await waitFor(() => me.data.nicknameError !== '', { what: 'the refusal' })
  expect(text(me, '.nickname-error')).toBe('昵称包含违规信息，请换一个')
  const name = `小邻${n.slice(-6)}`
  me.querySelector('.nickname').dispatchEvent('confirm', { detail: { value: ` ${name} ` } })
  await waitFor(() => me.data.me.display_name === name, { what: 'the nickname' })
  expect(text(me, '.nickname-error')).toBeNull()

  // the getPhoneNumber button: WeChat hands the page a code, our server confirms the number
  const { code } = await backend.wechat('_fake/phone-codes', { phone: '13912345678' })
  me.querySelector('.phone-button').dispatchEvent('getphonenumber', { detail: { code, errMsg: 'getPhoneNumber:ok' } })
  await waitFor(() => me.data.phoneText !== '', { what: 'the phone' })
  expect(text(me, '.phone')).toBe('139****5678')
  expect(text(me, '.phone-button')).toBe('更换')
  const stored = await backend.call('GET', '/api/v1/me', undefined, token)
  expect([stored.display_name, stored.phone, stored.phone_confirmed]).toEqual([name, '13912345678', true])
  // refusing the dialog again sends nothing
  const before = mp.requests.length
  me.instance.onPhone({ detail: { errMsg: 'getPhoneNumber:fail user deny' } })
  expect(mp.requests.length).toBe(before)

  // the address page: not yet a resident anywhere, so the estate is found by search
  const form = load('pages/address/index')
  form.instance.onLoad({})
  await waitFor(() => form.data.state !== 'loading', { what: 'the address form' })
  expect(form.data.myEstates).toEqual([])
  expect(form.data.contact_phone).toBe('13912345678')  // my confirmed phone
  form.querySelector('.estate-query').dispatchEvent('input', { detail: { value: estate.name } })
  await tap(form, '.search-button')
  await waitFor(() => form.data.results !== null, { what: 'the estate search' })
  expect(text(form, '.result .result-name')).toBe(estate.name)
  await tap(form, '.result')
  for (const [field, value] of [['building', '3'], ['unit', '2'], ['room', '1201'], ['contact_name', '张阿姨']]) {
    form.querySelector(`.input-${field}`).dispatchEvent('input', { detail: { value } })
  }
  await tap(form, '.save')
  await waitFor(() => mp.called('navigateBack').length === 1, { what: 'the save' })

  // the address book shows it, the default
  const book = load('pages/addresses/index')
  book.instance.onLoad({})
  await waitFor(() => book.data.state !== 'loading', { what: 'the address book' })
  expect(book.querySelectorAll('.item')).toHaveLength(1)
  expect(text(book, '.item .address-text')).toBe(`${estate.name} 3栋 2单元 1201`)
  expect(text(book, '.item .default-badge')).toBe('默认')
  expect(text(book, '.item .contact')).toBe('张阿姨 139****5678')

  // the engineer announces a visit day: the resident (of the estate through the address) is told
  await backend.call('POST', '/api/v1/engineer/visits', { estate_id: estate.id, date: tomorrow(), slots: ['09:00-10:00'] }, engineerToken)
  me.instance.onShow()
  await waitFor(() => me.data.unread === 1, { what: 'the unread count' })
  expect(text(me, '.entry-notifications .unread')).toBe('1')

  const inbox = load('pages/notifications/index')
  inbox.instance.onLoad({})
  await waitFor(() => inbox.data.state !== 'loading', { what: 'the inbox' })
  expect(inbox.data.state).toBe('ready')
  expect(text(inbox, '.item.unread .title')).toContain('赵师傅')
  expect(text(inbox, '.item .body')).toContain(estate.name)
  await tap(inbox, '.item')
  expect(mp.called('switchTab').map((a) => a.url)).toEqual(['/pages/estate/index'])
  expect(getApp().globalData.estateId).toBe(estate.id)
  await waitFor(() => inbox.data.unread === 0, { what: 'the notice read' })
  const after = await backend.call('GET', '/api/v1/me/notifications', undefined, token)
  expect(after.unread_count).toBe(0)
})

test('通知设置: a purpose is turned on through WeChat\'s dialog and its quota shows; an offer category is muted', async () => {
  mp.openid = `o_subs_${backend.unique()}`
  const page = load('pages/subscriptions/index')
  page.instance.onLoad({})
  await waitFor(() => page.data.state !== 'loading', { what: 'the settings' })
  expect(page.data.purposes.map((p) => p.purpose)).toEqual(['visit', 'order', 'redemption', 'maintenance', 'offer', 'activity', 'steward'])
  expect(text(page, '.purpose-order .remaining')).toBe('未开启，收不到微信通知')
  mp.subscribeAnswers = { [page.data.purposes[1].template_id]: 'accept' }
  await tap(page, '.purpose-order .enable')
  await waitFor(() => page.data.purposes[1].remaining === 1, { what: 'the quota' })
  expect(text(page, '.purpose-order .remaining')).toBe('还可接收 1 条')
  expect(text(page, '.purpose-order .enable')).toBe('再开启')

  // 不接收这些推荐: muting a category of offers is stored, the others stay on
  expect(page.data.mutes.map((m) => [m.category, m.muted])).toEqual([['coupon', false], ['activity', false], ['reward', false], ['partner', false]])
  page.querySelector('.mute-partner .mute-switch').dispatchEvent('change', { detail: { value: true } })
  await waitFor(() => !page.data.savingMutes && page.data.mutes[3].muted, { what: 'the mute' })
  const stored = await backend.call('GET', '/api/v1/me/offer-mutes', undefined, wx.getStorageSync('linli.token'))
  expect(stored.items.filter((m) => m.muted).map((m) => m.category)).toEqual(['partner'])
})
