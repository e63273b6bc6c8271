/**
 * Recorded answers of the products and care API (community/products, community/care), in the
 * server's real shapes (ProductSchema, ProductDetailSchema, ProductModelSchema, MyCareItemSchema,
 * CareBookResultSchema), shared by products.test.js, product.test.js, care.test.js and the layout
 * scenarios.
 */
const CUIZHU = { id: 12, name: '翠竹苑' }

/** An item of GET /api/v1/product-models */
const catalogueModel = (id, code, name, category = 'water_purifier', label = '净水器', extra = {}) => ({
  id, code, name, category, category_label: label, image: null, image_url: null, warranty_months: 24, active: true,
  created_at: '2026-10-01T02:00:00+00:00', updated_at: '2026-10-01T02:00:00+00:00', ...extra,
})
const RO600 = catalogueModel(3, 'RO-600G', '反渗透净水器 RO-600G')
const RO800 = catalogueModel(4, 'RO-800', '厨下净水器', 'water_purifier', '净水器', { warranty_months: 12 })
const KFR35 = catalogueModel(8, 'KFR-35GW', '挂壁式空调 KFR-35GW', 'air_conditioner', '空调')

/** The model as a product carries it (ProductModelBriefSchema). */
const brief = (m) => ({ id: m.id, code: m.code, name: m.name, category: m.category, category_label: m.category_label,
  image_url: m.image_url, warranty_months: m.warranty_months })

/** NextCareSchema */
const nextCare = (dueOn, daysLeft, extra = {}) => ({ due_on: dueOn, plan_id: 4, plan_name: '复合滤芯更换', service_type: 'maintenance',
  service_type_label: '保养', overdue: daysLeft < 0, days_left: daysLeft, ...extra })

/** An item of GET /api/v1/me/products, the answer of POST /api/v1/me/products (ProductSchema) */
const product = (id, extra = {}) => ({
  id, serial: `RO600G2025${id}A`, status: 'active', status_label: '在用', source: 'resident', source_label: '住户登记',
  model: brief(RO600), install_date: '2025-03-01', purchase_date: '2025-02-20', warranty_end: '2027-02-20', in_warranty: true,
  warranty_days_left: 412, owner_id: 5, estate_id: 12, estate_name: '翠竹苑', address_id: 3, address: '翠竹苑 3栋 2单元 1201',
  installer: null, next_care: nextCare('2026-12-20', 12), created_at: '2026-12-01T02:00:00+00:00', ...extra,
})

/** ProductScheduleSchema */
const schedule = (planId, name, nextDueOn, extra = {}) => ({ plan_id: planId, plan_name: name, service_type: 'maintenance',
  service_type_label: '保养', description: 'RO-600G 采用复合滤芯，每 12 个月更换一次。', next_due_on: nextDueOn, last_done_on: null, ...extra })

/** GET /api/v1/me/products/{id} (ProductDetailSchema) */
const productDetail = (id, extra = {}, schedules = [schedule(4, '复合滤芯更换', '2026-12-20'),
  schedule(5, 'RO膜更换', '2027-03-01', { service_type: 'other', service_type_label: '其他', description: 'RO 膜每 24 个月更换一次。' })]) => ({
  ...product(id, extra), schedules,
})

/** An item of GET /api/v1/me/reminders, GET /api/v1/me/reminders/{id} (MyCareItemSchema) */
const careItem = (id, extra = {}) => ({
  id, status: 'open', status_label: '待处理', due_on: '2026-12-20', days_left: 12, overdue: false, order_id: null, can_book: true,
  product: { id: 7, serial: 'RO600G20257A', model_code: 'RO-600G', model_name: '反渗透净水器 RO-600G', category: 'water_purifier',
    category_label: '净水器', address: '翠竹苑 3栋 2单元 1201' },
  plan: { id: 4, name: '复合滤芯更换', service_type: 'maintenance', service_type_label: '保养',
    description: 'RO-600G 采用复合滤芯，每 12 个月更换一次（替代品类的 6 个月滤芯计划）。' },
  estate: CUIZHU, steward: { id: 3, name: '王建国', photo_url: '/api/v1/uploads/wang.jpg' }, is_my_steward: true, ...extra,
})

/** The order a booking makes (ServiceOrderSchema) */
const bookedOrder = (id, extra = {}) => ({
  id, source: 'app', estate_id: 12, resident_id: 5, engineer_id: 3, preferred_engineer_id: 3, service_type: 'maintenance',
  service_type_label: '保养', product_id: 7, description: '保养提醒：复合滤芯更换（净水器 反渗透净水器 RO-600G，序列号 RO600G20257A，12月20日到期）',
  preferred_slot: null, status: 'assigned', status_label: '已派单', requested_at: '2026-12-08T02:00:00+00:00',
  assigned_at: '2026-12-08T02:00:00+00:00', scheduled_for: null, completed_at: null, cancelled_at: null, cancel_reason: null,
  rating: null, complained: false, address: '翠竹苑 3栋 2单元 1201', contact_name: '陈小明', contact_phone: '13812345678',
  customer_name: '陈小明', photos: [], engineer: { id: 3, name: '王建国', photo_url: '/api/v1/uploads/wang.jpg' }, review: null, ...extra,
})

/** POST /api/v1/me/reminders/{id}/book (CareBookResultSchema) */
const booking = (itemId, orderId, created = true, extra = {}) => ({
  item: careItem(itemId, { status: 'booked', status_label: '已预约', order_id: orderId, can_book: false }),
  order: bookedOrder(orderId, extra), created,
})

/** An item of GET /api/v1/me/addresses */
const address = (id, extra = {}) => ({ id, estate: { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }, building: '3栋',
  unit: '2单元', room: '1201', contact_name: '陈小明', contact_phone: '13812345678', is_default: false,
  text: '翠竹苑 3栋 2单元 1201', created_at: '2026-12-01T02:00:00+00:00', updated_at: '2026-12-01T02:00:00+00:00', ...extra })

module.exports = { CUIZHU, catalogueModel, RO600, RO800, KFR35, brief, nextCare, product, schedule, productDetail, careItem,
  bookedOrder, booking, address }
