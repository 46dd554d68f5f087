# ruff: noqa: E501  (menu data reads best one dish per line)
"""The demo city's menus: Vietnamese dishes by kind of eatery, with the option groups they use.

Plain data, read by `merchants.demo`. Prices are in dong.
"""

from typing import NamedTuple


class Group(NamedTuple):
    name: str
    required: bool
    min_select: int
    max_select: int
    options: tuple[tuple[str, int], ...]


GROUPS: dict[str, Group] = {
    "size_bowl": Group("Size", True, 1, 1, (("Tô thường", 0), ("Tô lớn", 10_000), ("Tô đặc biệt", 20_000))),
    "noodle_extra": Group("Thêm", False, 0, 3, (("Thêm bánh", 5_000), ("Thêm thịt", 15_000), ("Trứng trần", 5_000), ("Hành trần", 0))),
    "bun_bo_extra": Group("Thêm", False, 0, 3, (("Chả cua", 10_000), ("Giò heo", 15_000), ("Huyết", 5_000), ("Bò viên", 10_000))),
    "rice": Group("Cơm", True, 1, 1, (("Cơm thường", 0), ("Ít cơm", 0), ("Thêm cơm", 5_000))),
    "rice_extra": Group("Thêm", False, 0, 4, (("Trứng ốp la", 6_000), ("Chả trứng", 8_000), ("Bì", 5_000), ("Sườn thêm", 25_000))),
    "banh_mi_extra": Group("Thêm", False, 0, 3, (("Thêm pate", 3_000), ("Thêm chả", 5_000), ("Trứng ốp la", 6_000), ("Nhiều ớt", 0))),
    "drink_size": Group("Size", True, 1, 1, (("S", 0), ("M", 5_000), ("L", 10_000))),
    "sugar": Group("Đường", True, 1, 1, (("Ít đường", 0), ("Vừa", 0), ("Nhiều đường", 0))),
    "ice": Group("Đá", False, 0, 1, (("Ít đá", 0), ("Không đá", 0), ("Đá riêng", 0))),
    "milk_tea_size": Group("Size", True, 1, 1, (("M", 0), ("L", 7_000))),
    "milk_tea_sugar": Group("Độ ngọt", True, 1, 1, (("30%", 0), ("50%", 0), ("70%", 0), ("100%", 0))),
    "toppings": Group("Topping", False, 0, 3, (("Trân châu đen", 5_000), ("Trân châu trắng", 5_000), ("Thạch dừa", 5_000), ("Pudding trứng", 7_000), ("Kem cheese", 10_000))),
    "hotpot_size": Group("Phần", True, 1, 1, (("Nhỏ (2 người)", 0), ("Lớn (4 người)", 150_000))),
    "hotpot_extra": Group("Thêm", False, 0, 4, (("Bò Mỹ", 65_000), ("Rau thêm", 20_000), ("Mì gói", 8_000), ("Nấm kim châm", 20_000))),
    "spice": Group("Độ cay", True, 1, 1, (("Không cay", 0), ("Cay vừa", 0), ("Cay nhiều", 0))),
    "chicken_portion": Group("Phần", True, 1, 1, (("Nửa con", 0), ("Nguyên con", 120_000))),
    "sauce": Group("Sốt", True, 1, 1, (("Sốt cay ngọt", 0), ("Sốt mật ong bơ tỏi", 0), ("Sốt phô mai", 10_000))),
    "che_topping": Group("Thêm", False, 0, 3, (("Nước cốt dừa", 3_000), ("Đậu phộng", 2_000), ("Thạch", 5_000))),
    "ramen_extra": Group("Thêm", False, 0, 3, (("Trứng lòng đào", 10_000), ("Chashu", 25_000), ("Rong biển", 5_000))),
}  # fmt: skip

Item = tuple[str, int, tuple[str, ...]]


class Kind(NamedTuple):
    """A kind of eatery: its names, cuisines, price level, hours pattern and menu (category -> dishes)."""

    names: tuple[str, ...]
    cuisines: tuple[str, ...]
    price_level: int
    hours: str
    menu: tuple[tuple[str, tuple[Item, ...]], ...]


KINDS: tuple[Kind, ...] = (
    Kind(
        ("Phở Cô Ba", "Phở Gia Truyền Bát Đàn", "Phở Hùng Vương", "Phở Lệ", "Phở Bò Nam Định"),
        ("noodles", "vietnamese"), 1, "day",
        (
            ("Phở bò", (("Phở bò tái", 55_000, ("size_bowl", "noodle_extra")), ("Phở bò chín", 55_000, ("size_bowl", "noodle_extra")),
                        ("Phở tái nạm gầu", 65_000, ("size_bowl", "noodle_extra")), ("Phở đặc biệt", 75_000, ("size_bowl", "noodle_extra")),
                        ("Phở bò viên", 55_000, ("size_bowl",)), ("Phở sốt vang", 70_000, ("size_bowl",)))),
            ("Phở gà", (("Phở gà ta", 60_000, ("size_bowl", "noodle_extra")), ("Phở gà xé phay", 55_000, ("size_bowl",)))),
            ("Ăn kèm", (("Quẩy", 5_000, ()), ("Trứng trần", 7_000, ()))),
            ("Đồ uống", (("Trà đá", 3_000, ()), ("Nước sâm", 15_000, ("ice",)), ("Nước mía", 15_000, ("ice",)))),
        ),
    ),
    Kind(
        ("Bún Bò Huế Đông Ba", "Bún Bò Huế O Xuân", "Bún Bò Gánh", "Bún Bò Mệ Kéo"),
        ("noodles", "vietnamese"), 1, "day",
        (
            ("Bún bò", (("Bún bò Huế đặc biệt", 65_000, ("size_bowl", "bun_bo_extra")), ("Bún bò giò heo", 55_000, ("size_bowl", "bun_bo_extra")),
                        ("Bún bò tái", 50_000, ("size_bowl", "bun_bo_extra")), ("Bún bò chả cua", 55_000, ("size_bowl",)))),
            ("Bún khác", (("Bún riêu cua", 45_000, ("size_bowl",)), ("Bún mọc", 45_000, ("size_bowl",)), ("Bún thịt nướng", 45_000, ()))),
            ("Ăn kèm", (("Chả cua thêm", 15_000, ()), ("Giò heo thêm", 20_000, ()), ("Rau sống", 5_000, ()))),
            ("Đồ uống", (("Trà đá", 3_000, ()), ("Nước chanh", 15_000, ("sugar", "ice")))),
        ),
    ),
    Kind(
        ("Cơm Tấm Ba Ghiền", "Cơm Tấm Thuận Kiều", "Cơm Tấm Cali", "Cơm Tấm Bụi Sài Gòn", "Cơm Tấm Phúc Lộc"),
        ("rice", "vietnamese"), 1, "long",
        (
            ("Cơm tấm", (("Cơm tấm sườn", 45_000, ("rice", "rice_extra")), ("Cơm tấm sườn bì chả", 60_000, ("rice", "rice_extra")),
                         ("Cơm tấm sườn trứng", 52_000, ("rice", "rice_extra")), ("Cơm tấm ba rọi nướng", 50_000, ("rice", "rice_extra")),
                         ("Cơm tấm gà nướng", 50_000, ("rice", "rice_extra")), ("Cơm tấm đặc biệt", 75_000, ("rice",)))),
            ("Canh", (("Canh khổ qua nhồi thịt", 15_000, ()), ("Canh rong biển", 10_000, ()))),
            ("Đồ uống", (("Trà đá", 3_000, ()), ("Nước ngọt", 15_000, ()), ("Trà tắc", 12_000, ("sugar", "ice")))),
        ),
    ),
    Kind(
        ("Bánh Mì Huỳnh Hoa", "Bánh Mì Hòa Mã", "Bánh Mì 37 Nguyễn Trãi", "Bánh Mì Bảy Hổ"),
        ("banh_mi", "snacks"), 1, "early",
        (
            ("Bánh mì", (("Bánh mì đặc biệt", 35_000, ("banh_mi_extra",)), ("Bánh mì thịt nguội", 25_000, ("banh_mi_extra",)),
                         ("Bánh mì xíu mại", 22_000, ("banh_mi_extra",)), ("Bánh mì trứng ốp la", 20_000, ("banh_mi_extra",)),
                         ("Bánh mì gà xé", 25_000, ("banh_mi_extra",)), ("Bánh mì heo quay", 30_000, ("banh_mi_extra",)),
                         ("Bánh mì chả cá", 22_000, ("banh_mi_extra",)), ("Bánh mì chay", 20_000, ()))),
            ("Bánh mì chảo", (("Bánh mì chảo pate trứng", 40_000, ()), ("Bánh mì chảo bò lúc lắc", 55_000, ()))),
            ("Đồ uống", (("Sữa đậu nành", 10_000, ("ice",)), ("Cà phê sữa đá", 20_000, ("sugar",)))),
        ),
    ),
    Kind(
        ("Cà Phê Sáng", "Cộng Cà Phê Sài Gòn", "Cà Phê Vợt Cheo Leo", "Cà Phê Muối Chú Long", "The Morning Brew"),
        ("coffee", "drinks"), 2, "cafe",
        (
            ("Cà phê", (("Cà phê đen đá", 25_000, ("drink_size", "sugar")), ("Cà phê sữa đá", 29_000, ("drink_size", "sugar", "ice")),
                        ("Bạc xỉu", 32_000, ("drink_size", "sugar", "ice")), ("Cà phê muối", 35_000, ("drink_size", "ice")),
                        ("Cold brew cam sả", 45_000, ("drink_size",)))),
            ("Trà", (("Trà đào cam sả", 45_000, ("drink_size", "sugar", "ice")), ("Trà vải", 42_000, ("drink_size", "sugar", "ice")),
                     ("Trà sen vàng", 45_000, ("drink_size",)))),
            ("Sinh tố & nước ép", (("Sinh tố bơ", 45_000, ("sugar",)), ("Nước ép cam", 40_000, ("ice",)))),
            ("Bánh", (("Bánh flan", 18_000, ()), ("Croissant bơ", 35_000, ()))),
        ),
    ),
    Kind(
        ("Trà Sữa Bông", "Trà Sữa Mây", "Trà Sữa Nhà Làm", "Tiệm Trà Chanh Giã Tay"),
        ("drinks", "dessert"), 2, "cafe",
        (
            ("Trà sữa", (("Trà sữa trân châu đường đen", 45_000, ("milk_tea_size", "milk_tea_sugar", "toppings", "ice")),
                         ("Trà sữa matcha", 45_000, ("milk_tea_size", "milk_tea_sugar", "toppings", "ice")),
                         ("Trà sữa Thái xanh", 39_000, ("milk_tea_size", "milk_tea_sugar", "toppings")),
                         ("Hồng trà sữa", 39_000, ("milk_tea_size", "milk_tea_sugar", "toppings")),
                         ("Trà sữa khoai môn", 45_000, ("milk_tea_size", "milk_tea_sugar", "toppings")),
                         ("Sữa tươi trân châu đường đen", 49_000, ("milk_tea_size", "toppings")))),
            ("Trà trái cây", (("Trà ô long vải", 42_000, ("milk_tea_size", "milk_tea_sugar", "ice")),
                              ("Trà chanh giã tay", 25_000, ("milk_tea_size", "milk_tea_sugar", "ice")),
                              ("Yakult đào", 39_000, ("milk_tea_size", "ice")))),
            ("Ăn vặt", (("Bánh tráng trộn", 25_000, ("spice",)), ("Khoai tây lắc phô mai", 30_000, ()))),
        ),
    ),
    Kind(
        ("Lẩu Nướng Cây Bàng", "Quán Nhậu Hai Lúa", "Lẩu Bò Ba Toa", "Nướng Ngói Phố Núi", "Lẩu Dê 404"),
        ("hotpot", "grill"), 3, "night",
        (
            ("Lẩu", (("Lẩu Thái hải sản", 249_000, ("hotpot_size", "hotpot_extra")), ("Lẩu bò nhúng giấm", 269_000, ("hotpot_size", "hotpot_extra")),
                     ("Lẩu gà lá é", 229_000, ("hotpot_size", "hotpot_extra")), ("Lẩu mắm miền Tây", 259_000, ("hotpot_size", "hotpot_extra")))),
            ("Nướng", (("Ba chỉ bò nướng", 129_000, ("spice",)), ("Sườn heo nướng mật ong", 119_000, ()),
                       ("Mực nướng sa tế", 139_000, ("spice",)), ("Tôm nướng muối ớt", 159_000, ("spice",)))),
            ("Món xào", (("Rau muống xào tỏi", 45_000, ()), ("Khoai tây chiên", 39_000, ()))),
            ("Đồ uống", (("Bia Sài Gòn", 20_000, ()), ("Bia Tiger", 25_000, ()), ("Nước suối", 10_000, ()))),
        ),
    ),
    Kind(
        ("Ốc Oanh", "Ốc Đào Vĩnh Khánh", "Ốc Nhi 2 Sao", "Ốc Thảo Sài Gòn"),
        ("seafood", "snacks"), 2, "night",
        (
            ("Ốc", (("Ốc hương rang muối ớt", 119_000, ("spice",)), ("Ốc len xào dừa", 79_000, ("spice",)),
                    ("Ốc móng tay xào bơ tỏi", 89_000, ()), ("Ốc mỡ xào me", 69_000, ()))),
            ("Sò & nghêu", (("Sò điệp nướng mỡ hành", 89_000, ()), ("Nghêu hấp sả", 69_000, ()), ("Sò huyết rang me", 99_000, ()),
                            ("Hàu nướng phô mai", 99_000, ()))),
            ("Ăn kèm", (("Bánh mì chấm", 10_000, ()), ("Rau muống xào", 45_000, ()))),
            ("Đồ uống", (("Bia Sài Gòn", 20_000, ()), ("Nước ngọt", 15_000, ()))),
        ),
    ),
    Kind(
        ("Chè Cô Hai", "Chè Hà Ký", "Chè Bưởi Út Nhỏ", "Sương Sáo Hạt É Bà Bảy"),
        ("dessert", "snacks"), 1, "afternoon",
        (
            ("Chè", (("Chè Thái", 30_000, ("che_topping",)), ("Chè khúc bạch", 35_000, ("che_topping",)), ("Chè ba màu", 25_000, ("che_topping",)),
                     ("Chè đậu đỏ", 20_000, ("che_topping",)), ("Chè bưởi", 25_000, ("che_topping",)), ("Chè chuối nướng", 25_000, ()))),
            ("Tàu hũ & sương sáo", (("Tàu hũ nước đường", 15_000, ()), ("Sương sáo hạt é", 20_000, ("ice",)))),
            ("Bánh & sữa chua", (("Rau câu dừa", 15_000, ()), ("Sữa chua nếp cẩm", 20_000, ()), ("Bánh flan caramel", 15_000, ()))),
        ),
    ),
    Kind(
        ("Quán Chay An Lạc", "Cơm Chay Hoa Sen", "Chay Tâm Bình"),
        ("vegetarian", "vietnamese"), 1, "split",
        (
            ("Món chính", (("Đậu hũ chiên sả", 35_000, ()), ("Đậu hũ non sốt nấm", 40_000, ()), ("Cơm chay thập cẩm", 45_000, ("rice",)),
                           ("Nấm kho tiêu", 45_000, ()), ("Mì xào chay", 40_000, ()))),
            ("Bún & phở chay", (("Bún chay Huế", 40_000, ("size_bowl",)), ("Phở chay", 40_000, ("size_bowl",)))),
            ("Khai vị", (("Gỏi cuốn chay", 30_000, ()), ("Chả giò chay", 35_000, ()), ("Canh rau củ", 25_000, ()))),
            ("Đồ uống", (("Sữa đậu nành", 12_000, ("ice",)), ("Trà atiso", 15_000, ("sugar", "ice")))),
        ),
    ),
    Kind(
        ("Sushi Hokkaido Sachi", "Ramen Tokyo Ichiban", "Cơm Nhật Oishii"),
        ("japanese",), 3, "split",
        (
            ("Sushi & sashimi", (("Sushi cá hồi", 89_000, ()), ("Sashimi cá hồi", 159_000, ()), ("Cơm cuộn California", 99_000, ()))),
            ("Ramen & udon", (("Ramen tonkotsu", 129_000, ("ramen_extra",)), ("Ramen miso cay", 129_000, ("ramen_extra", "spice")),
                              ("Udon bò", 119_000, ("ramen_extra",)))),
            ("Cơm", (("Cơm lươn Nhật", 199_000, ()), ("Cơm gà teriyaki", 99_000, ()))),
            ("Ăn vặt", (("Gyoza chiên", 69_000, ()), ("Tempura tôm", 119_000, ()), ("Takoyaki", 59_000, ()))),
            ("Đồ uống", (("Trà xanh Nhật", 25_000, ("ice",)), ("Bia Asahi", 45_000, ()))),
        ),
    ),
    Kind(
        ("Gà Rán Hàn Quốc Chicken Plus", "Tokbokki Seoul", "Kimbap Hàn Mẹ Nấu"),
        ("korean", "fast_food"), 2, "long",
        (
            ("Gà rán", (("Gà rán giòn", 159_000, ("chicken_portion",)), ("Gà rán sốt cay ngọt", 169_000, ("chicken_portion", "sauce")),
                        ("Cánh gà mật ong", 99_000, ("sauce",)))),
            ("Món Hàn", (("Tokbokki phô mai", 69_000, ("spice",)), ("Kimbap truyền thống", 49_000, ()), ("Mì lạnh Hàn Quốc", 79_000, ()),
                         ("Cơm trộn bibimbap", 89_000, ("spice",)), ("Canh kim chi", 69_000, ()), ("Bánh xèo hải sản Hàn", 99_000, ()))),
            ("Đồ uống", (("Soju", 89_000, ()), ("Trà gừng mật ong", 35_000, ()))),
        ),
    ),
    Kind(
        ("Hủ Tiếu Nam Vang Liến Hưng", "Mì Vịt Tiềm Tân Mai", "Dimsum Tiến Phát", "Hủ Tiếu Mực Ông Già Cali"),
        ("chinese", "noodles"), 2, "long",
        (
            ("Hủ tiếu & mì", (("Hủ tiếu Nam Vang", 65_000, ("size_bowl", "noodle_extra")), ("Hủ tiếu khô", 65_000, ("size_bowl",)),
                              ("Mì vịt tiềm", 95_000, ("size_bowl",)), ("Mì hoành thánh", 55_000, ("size_bowl",)),
                              ("Hủ tiếu mực", 70_000, ("size_bowl",)))),
            ("Dimsum", (("Há cảo tôm", 45_000, ()), ("Xíu mại", 39_000, ()), ("Sủi cảo", 45_000, ()), ("Bánh bao xá xíu", 25_000, ()))),
            ("Cơm & món quay", (("Cơm chiên Dương Châu", 65_000, ()), ("Vịt quay", 120_000, ()), ("Heo quay giòn bì", 90_000, ()))),
            ("Đồ uống", (("Trà Phổ Nhĩ", 20_000, ()), ("Sâm bí đao", 18_000, ("ice",)))),
        ),
    ),
)  # fmt: skip


class Street(NamedTuple):
    street: str
    ward: str
    district: str
    lat: float
    lng: float


#: Streets of Ho Chi Minh City where the demo merchants sit, at their real coordinates (approximately).
STREETS: tuple[Street, ...] = (
    Street("Nguyễn Huệ", "Phường Bến Nghé", "Quận 1", 10.77430, 106.70380),
    Street("Lê Thánh Tôn", "Phường Bến Thành", "Quận 1", 10.77650, 106.70100),
    Street("Pasteur", "Phường Bến Nghé", "Quận 1", 10.77900, 106.69900),
    Street("Bùi Viện", "Phường Phạm Ngũ Lão", "Quận 1", 10.76720, 106.69300),
    Street("Nguyễn Trãi", "Phường Nguyễn Cư Trinh", "Quận 1", 10.76750, 106.68950),
    Street("Đinh Tiên Hoàng", "Phường Đa Kao", "Quận 1", 10.78950, 106.69850),
    Street("Võ Văn Tần", "Phường Võ Thị Sáu", "Quận 3", 10.77720, 106.69000),
    Street("Nguyễn Đình Chiểu", "Phường Võ Thị Sáu", "Quận 3", 10.78000, 106.68800),
    Street("Lý Chính Thắng", "Phường 8", "Quận 3", 10.78600, 106.68400),
    Street("Cao Thắng", "Phường 12", "Quận 10", 10.77000, 106.68200),
    Street("Vĩnh Khánh", "Phường 8", "Quận 4", 10.76000, 106.70400),
    Street("Hải Thượng Lãn Ông", "Phường 10", "Quận 5", 10.75050, 106.66100),
    Street("Trần Hưng Đạo", "Phường 7", "Quận 5", 10.75400, 106.67200),
    Street("Nguyễn Thị Thập", "Phường Tân Phú", "Quận 7", 10.73850, 106.71500),
    Street("Nguyễn Văn Linh", "Phường Tân Phong", "Quận 7", 10.72900, 106.71900),
    Street("Sư Vạn Hạnh", "Phường 12", "Quận 10", 10.77300, 106.66900),
    Street("Ba Tháng Hai", "Phường 14", "Quận 10", 10.76900, 106.67000),
    Street("Xô Viết Nghệ Tĩnh", "Phường 21", "Quận Bình Thạnh", 10.80300, 106.71100),
    Street("Đinh Bộ Lĩnh", "Phường 24", "Quận Bình Thạnh", 10.80600, 106.70800),
    Street("Phan Xích Long", "Phường 2", "Quận Phú Nhuận", 10.79950, 106.68650),
    Street("Phan Đình Phùng", "Phường 2", "Quận Phú Nhuận", 10.79600, 106.68000),
    Street("Cộng Hòa", "Phường 4", "Quận Tân Bình", 10.80100, 106.65100),
    Street("Hoàng Văn Thụ", "Phường 4", "Quận Tân Bình", 10.79900, 106.66300),
    Street("Quang Trung", "Phường 10", "Quận Gò Vấp", 10.83500, 106.66500),
    Street("Phan Văn Trị", "Phường 5", "Quận Gò Vấp", 10.82500, 106.68800),
    Street("Thảo Điền", "Phường Thảo Điền", "TP. Thủ Đức", 10.80300, 106.73300),
    Street("Võ Văn Ngân", "Phường Linh Chiểu", "TP. Thủ Đức", 10.85000, 106.77200),
)

#: Opening-hours patterns: (opens, closes) each day; closes <= opens runs past midnight, equal is 24h.
HOURS: dict[str, tuple[tuple[str, str], ...]] = {
    "day": (("06:00", "22:00"),),
    "early": (("05:30", "11:00"), ("15:00", "21:00")),
    "long": (("09:00", "23:00"),),
    "split": (("10:00", "14:00"), ("17:00", "22:00")),
    "afternoon": (("12:00", "23:30"),),
    "cafe": (("07:00", "23:00"),),
    "night": (("16:00", "02:00"),),
    "around_the_clock": (("00:00", "00:00"),),
}
