const { load, flush, text, tap, apiError } = require('../helpers')

const INVITE = { invite_code: 'K7QX2M9P', scene: 'i=K7QX2M9P', page: 'pages/index/index', image_url: '/api/v1/invites/K7QX2M9P/image' }
const invitee = (id, status, label, points, extra = {}) => ({ id, invitee_name: `邻*${id}`, attributed_at: '2026-12-01T02:00:00+00:00',
  protected_until: '2026-12-31T02:00:00+00:00', status, status_label: label, qualified_by: points ? 'ambassador' : null, points, ...extra })
const TOTALS = { invitees: 3, pending: 1, rewarded: 1, flagged: 1, lapsed: 0, points: 100 }
const REFERRALS = { items: [invitee(3, 'pending', '待奖励', 0), invitee(2, 'rewarded', '已奖励', 100), invitee(1, 'flagged', '待核查', 0)],
  next_cursor: 'r1', totals: TOTALS }

let downloads
const realDownload = wx.downloadFile
const realSave = wx.saveImageToPhotosAlbum

beforeEach(() => {
  wx.setStorageSync('linli.token', 'tok')
  downloads = []
  wx.downloadFile = (args) => {
    downloads.push(args)
    setTimeout(() => args.success({ statusCode: 200, tempFilePath: 'wxfile://tmp/invite.png' }), 0)
  }
})
afterEach(() => {
  wx.downloadFile = realDownload
  wx.saveImageToPhotosAlbum = realSave
})

function routeAll(invite = [200, INVITE]) {
  mp.route('GET', '/api/v1/ambassador/invite', () => invite)
  mp.route('GET', '/api/v1/ambassador/referrals', (req) => [200, req.query.get('cursor') === 'r1'
    ? { items: [invitee(0, 'lapsed', '已失效', 0)], next_cursor: null, totals: TOTALS } : REFERRALS])
}

async function open() {
  const page = load('pages/invite/index')
  page.instance.onLoad()
  await flush()
  return page
}

test('my invite code and its picture (a public URL), the totals and the people I invited', async () => {
  routeAll()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(page.data.invite.image).toBe('http://127.0.0.1:5000/api/v1/invites/K7QX2M9P/image')
  expect(text(page, '.code')).toBe('K7QX2M9P')
  expect(text(page, '.invitees')).toBe('3')
  expect(text(page, '.rewarded')).toBe('1')
  expect(text(page, '.earned')).toBe('100')
  expect(page.querySelectorAll('.referral')).toHaveLength(3)
  expect(page.querySelectorAll('.referral .status').map((s) => s.dom.textContent.trim())).toEqual(['待奖励', '已奖励', '待核查'])
  expect(page.data.items.map((i) => i.badge)).toEqual(['warn', '', 'danger'])
  expect(text(page, '.referral .name')).toBe('邻*3')
  expect(text(page, '.earned-points')).toBe('+100')
  expect(mp.called('showShareMenu')).toHaveLength(1)
  await tap(page, '.code-row')
  expect(mp.called('setClipboardData')[0].data).toBe('K7QX2M9P')
  page.instance.onReachBottom()
  await flush()
  expect(page.data.items.map((i) => i.id)).toEqual([3, 2, 1, 0])
})

test('the share card opens the invite page with the same scene as the scanned code', async () => {
  routeAll()
  const page = await open()
  expect(page.querySelector('.share')).toBeTruthy()
  const share = page.instance.onShareAppMessage()
  expect(share.path).toBe('/pages/index/index?scene=i%3DK7QX2M9P')
  expect(decodeURIComponent(share.path.split('scene=')[1])).toBe(INVITE.scene)
  expect(share.title).toContain('邻里')
})

test('saving downloads the picture and puts it in the album', async () => {
  routeAll()
  const page = await open()
  await tap(page, '.save')
  await flush()
  expect(downloads.map((d) => d.url)).toEqual(['http://127.0.0.1:5000/api/v1/invites/K7QX2M9P/image'])
  expect(mp.called('saveImageToPhotosAlbum')[0].filePath).toBe('wxfile://tmp/invite.png')
  expect(mp.called('showToast').pop().title).toBe('已保存到相册')
})

test('a refused album permission leads to the settings', async () => {
  routeAll()
  wx.saveImageToPhotosAlbum = (args) => setTimeout(() => args.fail({ errMsg: 'saveImageToPhotosAlbum:fail auth deny' }), 0)
  const page = await open()
  await tap(page, '.save')
  await flush()
  expect(mp.called('showModal')[0].title).toBe('需要相册权限')
  expect(mp.called('openSetting')).toHaveLength(1)
  expect(page.data.saving).toBe(false)
})

test('a level that may not recruit sees why in the card, and still its referrals', async () => {
  routeAll([403, apiError('permission_denied', '您当前的等级（见习代言人）没有“邀请新代言人”权限')])
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(page.querySelector('.share')).toBeUndefined()
  expect(text(page, '.invite-error-text')).toBe('您当前的等级（见习代言人）没有“邀请新代言人”权限')
  expect(page.querySelector('.retry-invite')).toBeUndefined()
  expect(page.querySelectorAll('.referral')).toHaveLength(3)
  expect(page.instance.onShareAppMessage().path).toBe('/pages/index/index')
})

test('an invite that failed to load offers a retry in its card', async () => {
  routeAll([500, {}])
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(page.querySelector('.retry-invite')).toBeDefined()
})

test('nobody invited yet: the empty list', async () => {
  mp.route('GET', '/api/v1/ambassador/invite', 200, INVITE)
  mp.route('GET', '/api/v1/ambassador/referrals', 200, { items: [], next_cursor: null,
    totals: { invitees: 0, pending: 0, rewarded: 0, flagged: 0, lapsed: 0, points: 0 } })
  const page = await open()
  expect(text(page, '.empty >>> .message')).toBe('还没有邀请到好友')
  expect(text(page, '.invitees')).toBe('0')
})

test('not an ambassador: the server says so, with a retry', async () => {
  let fail = true
  mp.route('GET', '/api/v1/ambassador/invite', () => (fail ? [403, apiError('not_an_ambassador', '仅限服务代言人使用')] : [200, INVITE]))
  mp.route('GET', '/api/v1/ambassador/referrals', () => (fail ? [403, apiError('not_an_ambassador', '仅限服务代言人使用')] : [200, REFERRALS]))
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('仅限服务代言人使用')
  fail = false
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
  expect(page.data.invite.code).toBe('K7QX2M9P')
})
