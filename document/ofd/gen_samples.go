package ofd

import "fmt"

// contractClauses is the body text of the sample contract.
var contractClauses = []string{
	"第一条　服务内容：乙方为甲方提供电子印章管理系统的部署、配置与技术支持服务，包括签章客户端安装、证书与印章的申请协助、以及与甲方现有业务系统的对接。",
	"第二条　服务期限：自本合同签订之日起十二个月。期满前三十日内，双方可协商续签。",
	"第三条　服务费用：本合同服务费用总计人民币壹拾贰万元整（¥120,000.00），含税。甲方于合同签订后十个工作日内支付百分之五十，验收合格后十个工作日内支付其余款项。",
	"第四条　甲方义务：按时支付服务费用；提供必要的工作条件与技术资料；指定专人负责项目联络。",
	"第五条　乙方义务：按约定提供服务；对甲方提供的资料和业务信息严格保密；服务人员遵守甲方的安全管理制度。",
	"第六条　验收：乙方完成部署后书面通知甲方，甲方应在五个工作日内组织验收；逾期未提出书面异议的，视为验收合格。",
	"第七条　知识产权：乙方交付的软件著作权归乙方所有，甲方在服务期内享有非独占的使用权。",
	"第八条　保密：双方对在履行本合同过程中知悉的对方商业秘密负有保密义务，该义务在本合同终止后继续有效三年。",
	"第九条　违约责任：任何一方违反本合同约定，应赔偿由此给对方造成的直接损失。",
	"第十条　争议解决：因本合同引起的争议，双方应友好协商；协商不成的，提交甲方所在地人民法院诉讼解决。",
	"第十一条　其他：本合同一式两份，甲乙双方各执一份，具有同等法律效力。本合同以电子形式签署，双方加盖的电子印章与实物印章具有同等效力。",
}

// wrap splits s into lines no wider than w mm at size.
func wrap(s string, size, w float64) []string {
	var lines []string
	var cur []rune
	cw := 0.0
	for _, r := range s {
		a := Advance(r, size)
		if cw+a > w && len(cur) > 0 {
			lines = append(lines, string(cur))
			cur, cw = nil, 0
		}
		cur = append(cur, r)
		cw += a
	}
	if len(cur) > 0 {
		lines = append(lines, string(cur))
	}
	return lines
}

// SampleContract builds the demo's sample.ofd: a Chinese service contract on A4 over pages pages
// (2 or 3), whose last page carries the signature block "甲方（盖章）：" and "乙方（盖章）：" where
// seals go (keyword placement finds them).
func SampleContract(pages int) *Builder {
	pages = max(2, min(pages, 3))
	b := NewBuilder("技术服务合同")
	b.CustomData = []CustomData{{"合同编号", "SD-2026-0001"}, {"甲方", "华东示范科技有限公司"}, {"乙方", "印信数字技术有限公司"}}
	const left, width, size, lead = 25.0, 160.0, 4.2333, 7.5
	var p *PageBuilder
	y := 0.0
	pageNo := 0
	newPage := func() {
		pageNo++
		p = b.AddPage(210, 297)
		y = 30
		p.Line(left, 20, left+width, 20, 0.2)
		p.Text(left, 14, "SealDesk 示例文档 · 技术服务合同", TextStyle{Size: 3, Color: [3]int{90, 90, 90}})
		p.Text(100, 280, fmt.Sprintf("第 %d 页 共 %d 页", pageNo, pages), TextStyle{Size: 3})
	}
	newPage()
	title := "技术服务合同"
	p.Text(105-TextWidth(title, 8)/2, y, title, TextStyle{Font: FontKai, Size: 8, Bold: true})
	y += 16
	for _, l := range []string{"合同编号：SD-2026-0001", "甲方：华东示范科技有限公司", "乙方：印信数字技术有限公司", "签订地点：上海市浦东新区"} {
		p.Text(left, y, l, TextStyle{Size: size})
		y += lead
	}
	y += 4
	intro := "甲乙双方本着平等互利的原则，经友好协商，就乙方向甲方提供电子印章系统技术服务事宜，达成如下协议："
	for _, l := range wrap(intro, size, width) {
		p.Text(left, y, l, TextStyle{Size: size})
		y += lead
	}
	// Spread the clauses so that the document has the requested number of pages.
	perPage := (len(contractClauses) + pages - 1) / pages
	for i, c := range contractClauses {
		if i > 0 && i%perPage == 0 && pageNo < pages {
			newPage()
		}
		y += 3
		for _, l := range wrap(c, size, width) {
			p.Text(left, y, l, TextStyle{Size: size})
			y += lead
		}
	}
	for pageNo < pages {
		newPage()
	}
	// Signature block on the last page.
	y = max(y+15, 200)
	p.Text(left, y, "甲方（盖章）：", TextStyle{Size: 5, Bold: true})
	p.Text(115, y, "乙方（盖章）：", TextStyle{Size: 5, Bold: true})
	p.Text(left, y+12, "法定代表人或授权代表：", TextStyle{Size: size})
	p.Text(115, y+12, "法定代表人或授权代表：", TextStyle{Size: size})
	p.Text(left, y+24, "日期：2026年1月1日", TextStyle{Size: size})
	p.Text(115, y+24, "日期：2026年1月1日", TextStyle{Size: size})
	p.Rect(Box{X: left - 5, Y: y - 8, W: width + 10, H: 42}, 0.3)
	return b
}

// SampleLong builds an n-page A4 document of text and table rules (benchmarks, memory tests).
func SampleLong(n int) *Builder {
	b := NewBuilder(fmt.Sprintf("SealDesk %d-page sample", n))
	for i := 0; i < n; i++ {
		p := b.AddPage(210, 297)
		p.Text(25, 15, fmt.Sprintf("第 %d 页 — SealDesk benchmark document", i+1), TextStyle{Font: FontKai, Size: 6})
		for row := 0; row < 30; row++ {
			y := 30 + float64(row)*8
			p.Line(25, y, 185, y, 0.15)
			p.Text(27, y+1.5, fmt.Sprintf("%03d  电子印章 %d 号文件的第 %d 行：合同、发票、证照与公文。", row+1, i+1, row+1), TextStyle{Size: 3.5})
		}
		p.Path(Box{X: 150, Y: 265, W: 30, H: 20}, "M 15 0 A 15 10 0 1 1 15 20 A 15 10 0 1 1 15 0 C", 0.8, &[3]int{200, 0, 0}, nil)
	}
	return b
}
