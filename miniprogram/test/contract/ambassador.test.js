/**
 * Becoming an ambassador against the real server: a resident applies through the apply page (a
 * refusal and a 422 shown where they belong first), an admin approves through the admin API, and
 * the centre shows the level; then the invite page and a task done through the task page.
 */
const http = require('http')
const { load, waitFor, text, tap } = require('../helpers')
const backend = require('./backend')

/** GET a URL of the live server: its status and content type. */
function probe(url) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] }))
    }).on('error', reject)
  })
}

/** A resident logged in through the fake WeChat as `mp.openid`, living in `estate`. */
async function resident(estate) {
  mp.openid = `o_amb_${backend.unique()}`
  const token = await backend.wechatLogin(mp.openid)
  const user = await backend.call('GET', '/api/v1/me', undefined, token)
  await backend.call('POST', '/api/v1/me/estates', { estate_id: estate.id }, token)
  return { token, user }
}

async function open(path, options = {}) {
  const page = load(path)
  page.instance.onLoad(options)
  await waitFor(() => page.data.state !== 'loading', { what: `${path} to load` })
  return page
}

function type(page, selector, value) {
  page.querySelector(selector).dispatchEvent('input', { detail: { value } })
}

/** Apply and be approved through the API: an ambassador at the entry level. */
async function ambassador(admin) {
  const { estate } = await backend.estateWithEngineer()
  const { token, user } = await resident(estate)
  await backend.call('PUT', `/api/v1/admin/users/${user.id}/membership`, { tier: 'gold' }, admin)
  const application = await backend.call('POST', '/api/v1/ambassador/applications', {
    channel: 'member', real_name: '赵代言', phone: '13700137000', estate_ids: [estate.id], statement: '' }, token)
  await backend.call('POST', `/api/v1/admin/ambassador/applications/${application.id}/approve`, undefined, admin)
  return { token, user, estate }
}

test('apply through the page, an admin approves, the centre shows the level', async () => {
  const admin = await backend.adminToken()
  const { estate } = await backend.estateWithEngineer()
  const { token, user } = await resident(estate)

  const centre = await open('pages/ambassador/index')
  expect(text(centre, '.intro-title')).toBe('成为服务代言人')
  await tap(centre, '.apply')
  expect(mp.called('navigateTo').pop().url).toBe('/pages/apply/index')

  const form = await open('pages/apply/index')
  expect(form.data.state).toBe('form')
  expect(form.data.channel).toBe('member')
  expect(form.data.estates.map((e) => e.id)).toEqual([estate.id])
  // nothing filled in: the server's 422, shown under the fields
  await tap(form, '.submit')
  await waitFor(() => !form.data.sending && Object.keys(form.data.errors).length > 0, { what: 'the field errors' })
  expect(text(form, '.error-real_name')).toBe('请填写 2–32 个字的真实姓名')
  expect(text(form, '.error-phone')).toBe('请填写正确的 11 位手机号')

  type(form, '.real-name', '钱小满')
  type(form, '.phone', '138-0013-8001')
  await tap(form, '.estate')
  // not a member yet: refused on the channel
  await tap(form, '.submit')
  await waitFor(() => !form.data.sending && Boolean(form.data.errors.channel), { what: 'the refusal' })
  expect(text(form, '.error-channel')).toBe('您的会员等级暂不满足申请条件')

  await backend.call('PUT', `/api/v1/admin/users/${user.id}/membership`, { tier: 'gold' }, admin)
  await tap(form, '.submit')
  await waitFor(() => form.data.state === 'submitted', { what: 'the application' })
  expect(text(form, '.done-title')).toBe('申请已提交')
  const sent = mp.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/ambassador/applications').pop()
  expect(sent.data).toEqual({ channel: 'member', real_name: '钱小满', phone: '138-0013-8001', estate_ids: [estate.id], statement: '' })

  centre.instance.onShow()
  await waitFor(() => centre.data.application && centre.data.application.status === 'pending', { what: 'the pending application' })
  expect(text(centre, '.app-status')).toBe('审核中')
  expect(centre.querySelector('.apply')).toBeUndefined()

  const status = await backend.call('GET', '/api/v1/ambassador/me', undefined, token)
  const decided = await backend.call('POST', `/api/v1/admin/ambassador/applications/${status.application.id}/approve`, undefined, admin)
  expect(decided.status).toBe('approved')

  centre.instance.onShow()
  await waitFor(() => centre.data.ambassador !== null && centre.data.board !== null, { what: 'the ambassador and the board' })
  expect(text(centre, '.level-name')).toBe('见习代言人')
  expect(text(centre, '.contribution')).toBe('近 90 天贡献 0 分')
  expect(text(centre, '.next-text')).toBe('再获得 500 分贡献可升为「银牌代言人」（门槛 500 分）')
  expect(centre.querySelectorAll('.perk').map((p) => p.dom.textContent.trim())).toEqual(['邀请新代言人'])
  expect(text(centre, '.estates')).toBe(`服务小区：${estate.name}`)
  expect(centre.data.ambassador.inviteCode).toMatch(/^[2-9A-HJKMNP-Z]{8}$/)
  expect(centre.querySelector('.go-invite')).toBeTruthy()
  expect(centre.data.board.me.points).toBe(0)

  // the invite: its code, a picture anyone can load by URL, and a share card with the code's scene
  const invite = await open('pages/invite/index')
  expect(invite.data.invite.code).toBe(centre.data.ambassador.inviteCode)
  expect(invite.instance.onShareAppMessage().path).toBe(`/pages/index/index?scene=${encodeURIComponent(`i=${invite.data.invite.code}`)}`)
  const picture = await probe(invite.data.invite.image.replace('http://127.0.0.1:5000', process.env.LINLI_API))
  expect(picture).toEqual({ status: 200, type: 'image/jpeg' })
  expect(text(invite, '.invitees')).toBe('0')

  // a friend opens the share card: the home page attributes them to the inviter at once
  const inviterOpenid = mp.openid
  mp.openid = `o_friend_${backend.unique()}`
  wx.removeStorageSync('linli.token') // a different WeChat user on this phone
  const home = load('pages/index/index')
  home.instance.onLoad({ scene: encodeURIComponent(`i=${invite.data.invite.code}`) })
  home.instance.onShow()
  await waitFor(() => home.data.invite !== null && home.data.state !== 'loading', { what: 'the attribution' })
  expect(text(home, ".invite .card-title")).toBe("钱** 邀请您加入邻里") // 钱小满, as she applied
  await tap(home, '.apply')
  expect(mp.called('navigateTo').pop().url).toBe(`/pages/apply/index?invite_code=${invite.data.invite.code}`)
  const referrals = await backend.call('GET', '/api/v1/ambassador/referrals', undefined, await backend.wechatLogin(inviterOpenid))
  expect(referrals.totals.invitees).toBe(1)
})

test('a task: take it, submit proof, see the rejection reason, submit again and be paid', async () => {
  const admin = await backend.adminToken()
  const { token } = await ambassador(admin)
  const deadline = new Date(Date.now() + 7 * 86400000).toISOString()
  const created = await backend.call('POST', '/api/v1/admin/ambassador/tasks', {
    title: `契约海报${backend.unique()}`, kind: 'promotion', points: 30, deadline, proof_required: ['text'] }, admin)
  await backend.call('POST', `/api/v1/admin/ambassador/tasks/${created.id}/publish`, undefined, admin)

  const list = await open('pages/tasks/index')
  const index = list.data.items.findIndex((t) => t.id === created.id)
  expect(list.data.items[index]).toEqual(expect.objectContaining({ title: created.title, mine: '可领取', points: 30 }))
  list.querySelectorAll('.task')[index].dispatchEvent('tap')
  await waitFor(() => mp.called('navigateTo').length > 0)
  expect(mp.called('navigateTo').pop().url).toBe(`/pages/task/index?id=${created.id}`)

  const page = await open('pages/task/index', { id: String(created.id) })
  expect(text(page, '.proofs')).toBe('需提交：文字说明')
  await tap(page, '.accept')
  await waitFor(() => page.data.task.accepted, { what: 'the acceptance' })
  // the required text is missing: the server's 422 under the field
  await tap(page, '.submit-proof')
  await waitFor(() => !page.data.sending && Boolean(page.data.errors.text), { what: 'the field error' })
  expect(text(page, '.error-text-field')).toBe('请填写文字说明（不超过 2000 字）')
  page.querySelector('.proof-text').dispatchEvent('input', { detail: { value: '已转发到业主群' } })
  await tap(page, '.submit-proof')
  await waitFor(() => page.data.task.pending === 1 && page.data.submissions.length === 1, { what: 'the submission' })
  expect(text(page, '.standing-text')).toBe('已提交，等待审核')

  const [submission] = page.data.submissions
  await backend.call('POST', `/api/v1/admin/ambassador/submissions/${submission.id}/reject`, { reason: '请附上群聊截图' }, admin)
  page.instance.onPullDownRefresh()
  await waitFor(() => page.data.submissions[0].statusText === '未通过', { what: 'the rejection' })
  expect(text(page, '.submission .reason')).toBe('未通过原因：请附上群聊截图')
  expect(page.querySelector('.proof-form')).toBeTruthy()

  page.querySelector('.proof-text').dispatchEvent('input', { detail: { value: '补上说明：已转发并置顶' } })
  await tap(page, '.submit-proof')
  await waitFor(() => page.data.submissions.length === 2, { what: 'the second submission' })
  await backend.call('POST', `/api/v1/admin/ambassador/submissions/${page.data.submissions[0].id}/approve`, undefined, admin)
  page.instance.onPullDownRefresh()
  await waitFor(() => page.data.task.done, { what: 'the approval' })
  expect(text(page, '.standing-text')).toBe('您已完成该任务')
  expect(page.data.submissions.map((s) => [s.statusText, s.points])).toEqual([['已通过', '+30 积分'], ['未通过', '']])
  const points = await backend.call('GET', '/api/v1/me/points', undefined, token)
  expect(points.balance).toBe(30)
})
