package web

import (
	"fmt"
	"net/http"
)

// Languages: Simplified Chinese by default, English on request (?lang=en, remembered in a
// cookie).
const (
	langZH = "zh"
	langEN = "en"
)

// msgs is the pages' text, keyed by message id; [0] is Chinese, [1] English.
var msgs = map[string][2]string{
	"app.title":          {"电子印章验证服务", "Electronic seal verification"},
	"nav.check":          {"验章", "Seal check"},
	"nav.console":        {"管理控制台", "Console"},
	"nav.seals":          {"印章", "Seals"},
	"nav.records":        {"签章记录", "Signing records"},
	"nav.audit":          {"审计日志", "Audit log"},
	"nav.orgs":           {"单位与凭据", "Organisations"},
	"nav.signout":        {"退出", "Sign out"},
	"nav.lang":           {"English", "中文"},
	"check.heading":      {"验证电子印章", "Check an electronic seal"},
	"check.intro":        {"上传已盖章的 PDF 或 OFD 文件，查看每个签章的验证结果。", "Upload a sealed PDF or OFD file to see the verification result of every signature."},
	"check.privacy":      {"文件仅在内存中验证，不会被保存。", "The file is checked in memory and not kept."},
	"check.limit":        {"文件大小上限：%s。", "Size limit: %s."},
	"check.drop":         {"将文件拖到此处，或点击选择文件", "Drop a file here, or click to choose one"},
	"check.submit":       {"开始验证", "Check"},
	"check.checking":     {"正在验证…", "Checking…"},
	"check.lookup":       {"按印章编码查询", "Look up a seal by its code"},
	"check.esid":         {"印章编码（esID）", "Seal code (esID)"},
	"check.lookupBtn":    {"查询", "Look up"},
	"check.tooLargeJS":   {"文件超过大小上限（%s），未上传。", "The file exceeds the size limit (%s) and was not uploaded."},
	"err.title":          {"无法完成请求", "The request could not be completed"},
	"err.noFile":         {"请选择要验证的文件。", "Choose a file to check."},
	"err.empty":          {"上传的文件是空的（0 字节）。", "The uploaded file is empty (0 bytes)."},
	"err.tooLarge":       {"文件超过大小上限 %s。", "The file exceeds the size limit of %s."},
	"err.notMultipart":   {"请通过页面上的表单上传文件（multipart/form-data，字段 file）。", "Upload the file with the form on the page (multipart/form-data, field file)."},
	"err.unreadable":     {"无法读取该文件：%s", "The file cannot be read: %s"},
	"err.unknownFormat":  {"该文件不是 PDF 或 OFD 文件。", "The file is not a PDF or OFD file."},
	"err.busy":           {"服务器繁忙，请稍后再试。", "The server is busy; try again shortly."},
	"err.notFound":       {"页面不存在。", "There is no such page."},
	"err.csrf":           {"请求被拒绝：表单令牌缺失或无效（CSRF 防护）。请刷新页面后重试。", "Request refused: the form token is missing or invalid (CSRF protection). Reload the page and try again."},
	"err.forbidden":      {"您无权查看或执行此操作。", "You may not see or do this."},
	"err.signin":         {"用户名或密码错误。", "Wrong username or password."},
	"err.rate":           {"登录尝试过于频繁，请稍后再试。", "Too many sign-in attempts; wait a little and try again."},
	"err.back":           {"返回", "Back"},
	"rep.heading":        {"验证结果", "Verification result"},
	"rep.file":           {"文件", "File"},
	"rep.format":         {"格式", "Format"},
	"rep.overall":        {"总体结论", "Overall"},
	"rep.nosig":          {"该文件没有签章。", "The document has no signature."},
	"rep.sigN":           {"签章 %d", "Signature %d"},
	"rep.signer":         {"签章人", "Signer"},
	"rep.time":           {"签章时间", "Signed at"},
	"rep.profile":        {"类型", "Profile"},
	"rep.integrity":      {"文件完整性", "Integrity"},
	"rep.changes":        {"签章后的修改", "Changes after signing"},
	"rep.trust":          {"证书链", "Certificate chain"},
	"rep.revocation":     {"吊销状态", "Revocation"},
	"rep.seal":           {"印章", "Seal"},
	"rep.sealChecks":     {"印章自身校验", "Seal checks"},
	"rep.registry":       {"备案登记", "Registry"},
	"rep.atSigning":      {"签章时状态", "Status at signing"},
	"rep.now":            {"当前状态", "Status now"},
	"rep.whole":          {"覆盖整个文件", "Covers the whole document"},
	"rep.problems":       {"技术细节（问题代码）", "Technical details (problem codes)"},
	"rep.reasons":        {"结论依据", "Why"},
	"rep.notes":          {"其他发现", "Other findings"},
	"rep.uncovered":      {"未被任何签章保护的内容", "Not covered by any signature"},
	"rep.pages":          {"页面（签章位置已标出）", "Pages (seals outlined)"},
	"rep.pageN":          {"第 %d 页", "Page %d"},
	"rep.pagesOmitted":   {"仅显示前 %d 页及含签章的页面。", "Only the first %d pages and the pages with seals are shown."},
	"rep.download":       {"下载报告", "Download the report"},
	"rep.again":          {"验证另一个文件", "Check another file"},
	"rep.notFiled":       {"未在本平台备案", "not filed on this hub"},
	"state.valid":        {"有效", "Valid"},
	"state.invalid":      {"无效", "Not valid"},
	"state.unknown":      {"无法确定", "Undetermined"},
	"fact.ok":            {"通过", "ok"},
	"fact.failed":        {"未通过", "failed"},
	"fact.unknown":       {"未知", "unknown"},
	"fact.none":          {"无", "none"},
	"fact.allowed":       {"允许的修改", "allowed"},
	"fact.disallowed":    {"不允许的修改", "disallowed"},
	"fact.notAsked":      {"未查询", "not asked"},
	"fact.yes":           {"是", "yes"},
	"fact.no":            {"否", "no"},
	"status.active":      {"有效", "active"},
	"status.suspended":   {"已暂停", "suspended"},
	"status.revoked":     {"已注销", "revoked"},
	"status.withdrawn":   {"已撤回", "withdrawn"},
	"status.lost":        {"已挂失", "lost"},
	"status.unknown":     {"未备案", "not filed"},
	"seal.heading":       {"印章登记信息", "Seal registry entry"},
	"seal.name":          {"名称", "Name"},
	"seal.esid":          {"印章编码", "Seal code"},
	"seal.filing":        {"备案号", "Filing number"},
	"seal.owner":         {"统一社会信用代码", "Owner (unified social credit code)"},
	"seal.validity":      {"有效期", "Validity"},
	"seal.status":        {"状态", "Status"},
	"seal.history":       {"状态历史", "Status history"},
	"seal.when":          {"时间", "When"},
	"seal.reason":        {"原因", "Reason"},
	"seal.certs":         {"绑定证书（SHA-256）", "Bound certificates (SHA-256)"},
	"seal.org":           {"单位", "Organisation"},
	"seal.actor":         {"操作人", "By"},
	"seal.action":        {"变更状态", "Change the status"},
	"seal.suspend":       {"暂停", "Suspend"},
	"seal.resume":        {"恢复", "Resume"},
	"seal.revoke":        {"注销", "Revoke"},
	"seal.apply":         {"提交", "Apply"},
	"seal.confirmRevoke": {"注销是最终操作，无法撤销。确定注销该印章吗？", "Revoking is final and cannot be undone. Revoke this seal?"},
	"seal.final":         {"该状态为最终状态，不能再变更。", "This status is final and cannot change."},
	"seal.changed":       {"状态已变更。", "The status was changed."},
	"signin.heading":     {"工作人员登录", "Staff sign-in"},
	"signin.user":        {"用户名", "Username"},
	"signin.password":    {"密码", "Password"},
	"signin.submit":      {"登录", "Sign in"},
	"console.signedInAs": {"已登录：%s（%s）", "Signed in: %s (%s)"},
	"role.reviewer":      {"审核员", "reviewer"},
	"role.org":           {"单位用户", "organisation user"},
	"list.filter":        {"筛选", "Filter"},
	"list.all":           {"全部", "all"},
	"list.next":          {"下一页", "Next page"},
	"list.empty":         {"没有结果。", "Nothing found."},
	"rec.id":             {"记录号", "Record"},
	"rec.doc":            {"文件", "Document"},
	"rec.digest":         {"文件摘要", "Document digest"},
	"rec.since":          {"接收时间起", "Received from"},
	"rec.until":          {"接收时间止", "Received until"},
	"rec.received":       {"接收时间", "Received"},
	"rec.client":         {"客户端", "Client"},
	"rec.pages":          {"页", "Pages"},
	"audit.action":       {"操作", "Action"},
	"audit.target":       {"对象", "Target"},
	"audit.detail":       {"详情", "Detail"},
	"org.id":             {"标识", "ID"},
	"org.name":           {"名称", "Name"},
	"org.uscc":           {"统一社会信用代码", "Unified social credit code"},
	"org.created":        {"创建时间", "Created"},
	"org.credentials":    {"凭据", "Credentials"},
	"org.staff":          {"工作人员账号", "Staff accounts"},
	"cred.hash":          {"哈希", "Hash"},
	"cred.role":          {"角色", "Role"},
	"cred.label":         {"标签", "Label"},
	"cred.revoked":       {"已吊销", "Revoked"},
	"nav.apps":           {"印章申请", "Applications"},
	"app.id":             {"申请号", "Application"},
	"app.unit":           {"申请单位", "Unit"},
	"app.updated":        {"更新时间", "Updated"},
	"app.type":           {"印章类型", "Seal type"},
	"app.csr":            {"证书请求主题", "Certificate request subject"},
	"app.contact":        {"联系人", "Contact"},
	"app.attachments":    {"附件", "Attachments"},
	"app.picture":        {"印模（实际尺寸）", "Seal picture (true size)"},
	"app.trueSize":       {"按实际尺寸 %.0f × %.0f 毫米显示（屏幕缩放为 100%% 时）。", "Shown at its true size, %.0f × %.0f mm (at 100%% screen scale)."},
	"app.generated":      {"未上传印模：批准时按类型标准尺寸生成。", "No picture uploaded: one is generated to the type's standard size on approval."},
	"app.decide":         {"审核决定", "Decision"},
	"app.approve":        {"批准", "Approve"},
	"app.return":         {"退回补正", "Return for correction"},
	"app.reject":         {"驳回", "Reject"},
	"app.reasonNote":     {"理由（退回、驳回时必填）", "Reason (required to return or reject)"},
	"app.decided":        {"审核决定已记录。", "The decision was recorded."},
	"app.pendingOnly":    {"仅显示待审核的申请。", "Only applications waiting for a decision are shown."},
	"app.draft":          {"草稿", "draft"},
	"app.submitted":      {"待审核", "submitted"},
	"app.resubmitted":    {"重新提交", "resubmitted"},
	"app.returned":       {"已退回", "returned"},
	"app.approved":       {"已批准", "approved"},
	"app.rejected":       {"已驳回", "rejected"},
	"app.withdrawn":      {"已撤回", "withdrawn"},
	"role.admin":         {"管理员", "administrator"},
	"role.auditor":       {"审计员", "auditor"},
	"status.filed":       {"已备案（待交付）", "filed (not yet delivered)"},
	"status.expired":     {"已过期", "expired"},
}

// tr returns message id in lang, formatted with args.
func tr(lang, id string, args ...any) string {
	m, ok := msgs[id]
	if !ok {
		return id
	}
	s := m[0]
	if lang == langEN {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// langOf picks the request's language: ?lang=, then the lang cookie, then Chinese.
func langOf(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == langEN || l == langZH {
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && (c.Value == langEN || c.Value == langZH) {
		return c.Value
	}
	return langZH
}
